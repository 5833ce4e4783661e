import type { Chunk, Probe, Rung } from '@reel/events';
import { frameArgs, storyboardArgs } from './frame-args.ts';
import { ladderArgs } from './ladder-args.ts';
import { h264Level } from './level.ts';
import { probe } from './probe.ts';
import { runFfmpeg } from './run.ts';

/** What every run takes besides its own options: where to stop, and what to put on its span. */
export interface RunContext {
  signal?: AbortSignal;
  attributes?: Record<string, string | number | boolean>;
}

export interface LadderJob extends RunContext {
  /** A local file (the transcoder downloads the source first). */
  input: string;
  ladder: Rung[];
  chunk: Chunk;
  audio: boolean;
  segmentSec: number;
  /** Variants are written to `outDir/<rung index>/index.m3u8` and `seg-NNNNN.ts`; the dirs must exist. */
  outDir: string;
  /** Seconds of the chunk encoded so far. */
  onProgress?: (outSec: number) => void;
}

export interface FrameJob extends RunContext {
  /** A local file or presigned URL. */
  input: string;
  atSec: number;
  /** Width of the JPEG; its height follows the display aspect ratio. */
  width: number;
  display: { width: number; height: number };
  output: string;
}

export interface StoryboardJob extends RunContext {
  input: string;
  plan: { intervalSec: number; tileWidth: number; tileHeight: number; columns: number; rows: number };
  output: string;
}

/**
 * Every ffmpeg/ffprobe call the workers make. Handlers receive one (createMedia in production, a
 * fake in unit tests). Runs reject with FfmpegError when the media is at fault, RetryableError
 * when the source or the machine failed, the abort reason when stopped; probe rejects with a
 * PermanentError saying why a file is refused.
 */
export interface Media {
  /** What the source is (ffprobe), confined to media containers. */
  probe(input: string, signal?: AbortSignal): Promise<Probe>;
  /** One work item: one decode, every rung, HLS variants (see ladderArgs). */
  encodeLadder(job: LadderJob): Promise<void>;
  /** One JPEG frame. */
  extractFrame(job: FrameJob): Promise<void>;
  /** The storyboard sprite (one JPEG). */
  extractStoryboard(job: StoryboardJob): Promise<void>;
  /** H.264 level of an encoded segment (e.g. 31). */
  h264Level(file: string, signal?: AbortSignal): Promise<number>;
}

export interface MediaOptions {
  /** Binaries, from resolveFfmpeg. */
  ffmpeg: string;
  ffprobe: string;
  /** x264 preset of the ladder (default veryfast). */
  preset?: string;
}

const context = (job: RunContext) => ({ ...(job.signal ? { signal: job.signal } : {}), ...(job.attributes ? { attributes: job.attributes } : {}) });

/** The real Media: fluent-ffmpeg for ffmpeg runs, execFile for ffprobe. */
export function createMedia(opts: MediaOptions): Media {
  const bin = opts.ffmpeg;
  return {
    probe: (input, signal) => probe(opts.ffprobe, input, signal),
    h264Level: (file, signal) => h264Level(opts.ffprobe, file, signal),
    encodeLadder: (job) =>
      runFfmpeg({
        bin,
        input: job.input,
        ...ladderArgs({ ...job, ...(opts.preset ? { preset: opts.preset } : {}) }),
        ...context(job),
        ...(job.onProgress ? { onProgress: job.onProgress } : {}),
        what: 'ladder',
        action: 'transcode the video',
      }),
    extractFrame: (job) =>
      runFfmpeg({ bin, input: job.input, ...frameArgs(job), output: job.output, ...context(job), what: 'frame', action: `extract a frame at ${job.atSec} s` }),
    extractStoryboard: (job) =>
      runFfmpeg({ bin, input: job.input, ...storyboardArgs(job.plan), output: job.output, ...context(job), what: 'storyboard', action: 'make the storyboard' }),
  };
}
