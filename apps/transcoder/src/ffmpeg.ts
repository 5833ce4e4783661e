import ffmpeg from 'fluent-ffmpeg';
import { RetryableError } from '@reel/events';
import { withSpan } from '@reel/telemetry/span';
import { metrics } from '@opentelemetry/api';

const ffmpegSpeed = metrics.getMeter('@reel/transcoder').createHistogram('reel.ffmpeg.speed', { description: 'media seconds encoded per wall-clock second' });

export interface FfmpegRun {
  /** ffmpeg binary (resolveFfmpeg). */
  bin: string;
  input: string;
  inputOptions?: string[];
  outputOptions: string[];
  output: string;
  signal?: AbortSignal;
  /** Seconds of output written so far, as ffmpeg reports it. */
  onProgress?: (outSec: number) => void;
  /** The run's span: `ffmpeg <what>`, with these attributes plus the media time and speed. */
  what: string;
  attributes?: Record<string, string | number | boolean>;
}

export class FfmpegError extends Error {
  override name = 'FfmpegError';
  readonly stderr: string;
  constructor(message: string, stderr: string, options?: ErrorOptions) {
    super(message, options);
    this.stderr = stderr;
  }
}
export const isFfmpegError = (err: unknown): err is FfmpegError => err instanceof FfmpegError;

const timemarkSec = (t: string) => t.split(':').reduce((acc, p) => acc * 60 + Number(p), 0);

/**
 * Runs one ffmpeg command through fluent-ffmpeg (kept this thin on purpose: fluent-ffmpeg is
 * unmaintained). The process is killed when `signal` aborts. Rejects with FfmpegError carrying
 * the last lines of stderr, or RetryableError when it was stopped.
 */
export function runFfmpeg(run: FfmpegRun): Promise<void> {
  return withSpan(`ffmpeg ${run.what}`, { attributes: { 'process.executable.name': 'ffmpeg', ...run.attributes } }, async (span) => {
    const started = Date.now();
    let outSec = 0;
    await execute({
      ...run,
      onProgress: (sec) => {
        outSec = sec;
        run.onProgress?.(sec);
      },
    });
    const wall = (Date.now() - started) / 1000;
    if (outSec > 0) {
      const speed = Math.round((outSec / Math.max(wall, 0.001)) * 100) / 100;
      span.setAttributes({ 'reel.ffmpeg.media_sec': outSec, 'reel.ffmpeg.speed': speed });
      ffmpegSpeed.record(speed, { what: run.what });
    }
  });
}

function execute(run: FfmpegRun): Promise<void> {
  return new Promise((resolve, reject) => {
    if (run.signal?.aborted) return reject(new RetryableError('ffmpeg not started: aborted'));
    const tail: string[] = [];
    const cmd = ffmpeg({ logger: undefined })
      .setFfmpegPath(run.bin)
      .input(run.input)
      // spread, not an array: fluent-ffmpeg splits array items holding one space (var_stream_map)
      .inputOptions(...(run.inputOptions ?? []), '-nostdin')
      .outputOptions(...run.outputOptions)
      .output(run.output)
      .on('stderr', (line: string) => {
        tail.push(line);
        if (tail.length > 200) tail.shift();
      })
      .on('progress', (p: { timemark?: string }) => {
        if (p.timemark) run.onProgress?.(timemarkSec(p.timemark));
      })
      .on('end', () => {
        run.signal?.removeEventListener('abort', onAbort);
        resolve();
      })
      .on('error', (err: Error) => {
        run.signal?.removeEventListener('abort', onAbort);
        if (run.signal?.aborted) return reject(new RetryableError('ffmpeg was stopped', { cause: run.signal.reason }));
        const errors = [...new Set(tail.filter((l) => /error|invalid|unable|cannot|could not|no such|not found|corrupt|truncat/i.test(l)))];
        const detail = (errors.length ? errors : tail.filter((l) => !/^\s*(frame=|size=|Press \[q\])/.test(l))).slice(-6).join('\n');
        reject(new FfmpegError(`ffmpeg failed: ${detail || err.message}`, tail.join('\n'), { cause: err }));
      });
    const onAbort = () => cmd.kill('SIGKILL');
    run.signal?.addEventListener('abort', onAbort, { once: true });
    cmd.run();
  });
}
