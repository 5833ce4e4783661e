/** @reel/media — every ffmpeg/ffprobe call of the platform, behind the Media interface handlers receive. */
export { resolveFfmpeg } from '@reel/runtime';
export { dyingWithParent, fluentFfmpegPath } from './dying.ts';
export { even } from './even.ts';
export { type ExecFailure, execTool } from './exec.ts';
export { frameArgs, storyboardArgs } from './frame-args.ts';
export { describeFormat, explainFailure, inputGuard, MEDIA_FORMATS, type ToolFailure } from './guard.ts';
export { alignedSegmentSec, KEYFRAME_SEC, ladderArgs, segmentsAlign } from './ladder-args.ts';
export { h264Level } from './level.ts';
export { createMedia, type FrameJob, type LadderJob, type Media, type MediaOptions, type RunContext, type StoryboardJob } from './media.ts';
export { interpretProbe, probe, probeFailure } from './probe.ts';
export { type FfmpegRun, FfmpegError, ffmpegOptions, isFfmpegError, runFfmpeg } from './run.ts';
