/** @reel/media — every ffmpeg/ffprobe call of the platform, behind the Media interface handlers receive. */
export { resolveFfmpeg } from './binaries.ts';
export { ffmpegSpec } from './config.ts';
export { dyingWithParent, fluentFfmpegPath } from './dying.ts';
export { even } from './even.ts';
export { type ExecFailure, execTool } from './exec.ts';
export { type ImageBranch, imageBranches } from './frame-args.ts';
export { describeFormat, explainFailure, inputGuard, MEDIA_FORMATS, type ToolFailure } from './guard.ts';
export { alignedSegmentSec, audioArgs, KEYFRAME_SEC, type LadderWork, ladderArgs, SPLIT_TS_BASE_SEC, segmentsAlign } from './ladder-args.ts';
export { h264Level } from './level.ts';
export { type AudioJob, createMedia, type LadderJob, type Media, type MediaOptions, type RunContext } from './media.ts';
export { interpretProbe, probe, probeFailure } from './probe.ts';
export { type FfmpegRun, FfmpegError, ffmpegOptions, isFfmpegError, runFfmpeg } from './run.ts';
