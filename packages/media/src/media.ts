import type { Probe } from '@reel/events';
import { audioArgs, type LadderWork, ladderArgs } from './ladder-args.ts';
import { h264Level } from './level.ts';
import { probe } from './probe.ts';
import { runFfmpeg } from './run.ts';

/** What every run takes besides its own options: where to stop, and what to put on its span. */
export interface RunContext {
  signal?: AbortSignal;
  /** CPU priority of the run (nice, 0–19; default 0). */
  niceness?: number;
  attributes?: Record<string, string | number | boolean>;
}

export interface LadderJob extends RunContext, LadderWork {
  /** A local file or presigned URL (a chunk of several reads its range of the source where it lies). */
  input: string;
  /** Seconds of the chunk encoded so far. */
  onProgress?: (outSec: number) => void;
}

export interface AudioJob extends RunContext {
  /** A local file or presigned URL. */
  input: string;
  bitrate: number;
  segmentSec: number;
  /** `outDir/index.m3u8` and `seg-NNNNN.ts`; the dir must exist. */
  outDir: string;
  /** Seconds of audio encoded so far. */
  onProgress?: (outSec: number) => void;
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
  /** One work item: one decode, every rung, HLS variants and the item's images (see ladderArgs). */
  encodeLadder(job: LadderJob): Promise<void>;
  /** The audio rendition every rung shares (see audioArgs). */
  encodeAudio(job: AudioJob): Promise<void>;
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

const context = (job: RunContext) => ({
  ...(job.signal ? { signal: job.signal } : {}),
  ...(job.attributes ? { attributes: job.attributes } : {}),
  ...(job.niceness ? { niceness: job.niceness } : {}),
});

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
    encodeAudio: (job) =>
      runFfmpeg({
        bin,
        input: job.input,
        ...audioArgs(job),
        ...context(job),
        ...(job.onProgress ? { onProgress: job.onProgress } : {}),
        what: 'audio',
        action: 'encode the audio',
      }),
  };
}
