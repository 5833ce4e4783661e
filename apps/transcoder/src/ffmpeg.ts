import { spawn } from 'node:child_process';
import { metrics } from '@opentelemetry/api';
import { RetryableError } from '@reel/events';
import { dyingWithParent, explainFailure, inputGuard, redactCredentials } from '@reel/runtime';
import { withSpan } from '@reel/telemetry/span';

const ffmpegSpeed = metrics.getMeter('@reel/transcoder').createHistogram('reel.ffmpeg.speed', { description: 'media seconds encoded per wall-clock second' });

export interface FfmpegRun {
  /** ffmpeg binary (resolveFfmpeg). */
  bin: string;
  /** A local file, or a presigned URL (then only http(s) may be opened). */
  input: string;
  inputOptions?: string[];
  outputOptions: string[];
  output: string;
  signal?: AbortSignal;
  /** Seconds of output written so far, as ffmpeg reports it. */
  onProgress?: (outSec: number) => void;
  /** The run's span: `ffmpeg <what>`, with these attributes plus the media time and speed. */
  what: string;
  /** What the run does, for the user-visible error: "ffmpeg could not <action>: <cause>". */
  action: string;
  attributes?: Record<string, string | number | boolean>;
}

/** ffmpeg refused or could not decode the media itself: trying again will not help. */
export class FfmpegError extends Error {
  override name = 'FfmpegError';
  /** The end of ffmpeg's stderr (credentials redacted), for the logs. */
  readonly stderr: string;
  constructor(message: string, stderr: string, options?: ErrorOptions) {
    super(message, options);
    this.stderr = stderr;
  }
}
export const isFfmpegError = (err: unknown): err is FfmpegError => err instanceof FfmpegError;

/**
 * Runs one ffmpeg command, killed with SIGKILL when `signal` aborts and with this process even
 * on kill -9 (dyingWithParent; the `-progress` pipe is a second tie: a dead parent's pipe kills
 * ffmpeg on its next report). The input is confined to media containers (inputGuard). Rejects
 * with FfmpegError (one sentence) when the media is at fault, RetryableError when the source could
 * not be read or the machine failed, or the abort reason when stopped.
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

/** The whole command line after the binary. */
export function ffmpegArgs(run: Pick<FfmpegRun, 'input' | 'inputOptions' | 'outputOptions' | 'output'>): string[] {
  return [
    ...['-hide_banner', '-nostdin', '-nostats', '-v', 'error', '-progress', 'pipe:1', '-y'],
    ...inputGuard(run.input),
    ...(run.inputOptions ?? []),
    ...['-i', run.input],
    ...run.outputOptions,
    run.output,
  ];
}

function execute(run: FfmpegRun): Promise<void> {
  return new Promise((resolve, reject) => {
    if (run.signal?.aborted) return reject(stopped(run.signal));
    const cmd = dyingWithParent(run.bin, ffmpegArgs(run));
    const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      // errors only (-v error); keep the end, where the cause is
      stderr = (stderr + s).slice(-8000);
    });
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      const lines = (pending + s).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^out_time_us=(\d+)/.exec(line);
        if (m) run.onProgress?.(Number(m[1]) / 1e6);
      }
    });
    const onAbort = () => child.kill('SIGKILL');
    run.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      run.signal?.removeEventListener('abort', onAbort);
      reject(new RetryableError(`ffmpeg could not be started: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
    child.on('close', (code, sig) => {
      run.signal?.removeEventListener('abort', onAbort);
      if (code === 0) return resolve();
      if (run.signal?.aborted) return reject(stopped(run.signal));
      const safeStderr = redactCredentials(stderr.split(run.input).join('<input>'));
      if (sig) return reject(new RetryableError(`ffmpeg was killed (${sig})`));
      if (code === 127 && /failed to execute/.test(stderr)) return reject(new RetryableError('ffmpeg could not be started (is it installed?)'));
      const failure = explainFailure(stderr, run.input);
      if (failure.transient) return reject(new RetryableError(`ffmpeg could not read the source: ${failure.reason}`));
      reject(new FfmpegError(`ffmpeg could not ${run.action}: ${failure.reason}`, safeStderr));
    });
  });
}

/** The abort's own reason when it is an error (a deleted video, a timeout), else a retryable stop. */
const stopped = (signal: AbortSignal): Error => (signal.reason instanceof Error ? signal.reason : new RetryableError('ffmpeg was stopped'));
