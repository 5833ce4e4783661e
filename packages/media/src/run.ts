import { setPriority } from 'node:os';
import { metrics } from '@opentelemetry/api';
import { RetryableError } from '@reel/events';
import { redactCredentials } from '@reel/runtime';
import { withSpan } from '@reel/telemetry/span';
import ffmpeg from 'fluent-ffmpeg';
import { fluentFfmpegPath } from './dying.ts';
import { explainFailure, inputGuard } from './guard.ts';

const ffmpegSpeed = metrics.getMeter('@reel/media').createHistogram('reel.ffmpeg.speed', { description: 'media seconds encoded per wall-clock second' });

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
  /**
   * CPU priority (nice, 0–19): work that can wait yields the cores to work a viewer waits for
   * (a video's first chunk) while still using whatever they leave idle.
   */
  niceness?: number;
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
 * Runs one ffmpeg command through fluent-ffmpeg, killed with SIGKILL when `signal` aborts and
 * with this process even on kill -9 (fluentFfmpegPath; the `-progress` pipe is a second tie: a dead
 * parent's pipe kills ffmpeg on its next report). The input is confined to media containers
 * (inputGuard). Rejects with FfmpegError (one sentence) when the media is at fault,
 * RetryableError when the source could not be read or the machine failed, or the abort reason
 * when stopped.
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

/**
 * The options around fluent-ffmpeg's `-i <input>` and `<output>`: errors only on stderr, the
 * progress report on stderr too (fluent-ffmpeg hands stderr out line by line; its own progress
 * event would probe the input first, unguarded), then the input guard.
 */
export function ffmpegOptions(run: Pick<FfmpegRun, 'input' | 'inputOptions' | 'outputOptions'>): { inputOptions: string[]; outputOptions: string[] } {
  return {
    inputOptions: [...['-hide_banner', '-nostdin', '-nostats', '-v', 'error', '-progress', 'pipe:2'], ...inputGuard(run.input), ...(run.inputOptions ?? [])],
    outputOptions: run.outputOptions,
  };
}

/** A `key=value` line of the -progress report, not an error. */
const PROGRESS_LINE = /^[a-z_0-9]+= *\S*$/;

function execute(run: FfmpegRun): Promise<void> {
  return new Promise((resolve, reject) => {
    if (run.signal?.aborted) return reject(stopped(run.signal));
    const opts = ffmpegOptions(run);
    // fluent-ffmpeg keeps one ffmpeg path per process (setFfmpegPath sets a module-wide cache)
    // options spread, never one array: given an array, fluent-ffmpeg splits every "a b" element in
    // two (the var_stream_map value "v:0,a:0 v:1,a:1" would be cut)
    const cmd = ffmpeg(run.input)
      .setFfmpegPath(fluentFfmpegPath(run.bin))
      .inputOptions(...opts.inputOptions);
    if (opts.outputOptions.length) cmd.outputOptions(...opts.outputOptions);
    cmd.output(run.output);
    let stderr = '';
    cmd.on('stderr', (line: string) => {
      const m = /^out_time_us=(\d+)/.exec(line);
      if (m) run.onProgress?.(Number(m[1]) / 1e6);
      // errors only (-v error); keep the end, where the cause is
      else if (!PROGRESS_LINE.test(line)) stderr = `${stderr}${line}\n`.slice(-8000);
    });
    // fluent-ffmpeg spawns after reading ffmpeg's capabilities: an abort may come before
    const onAbort = () => cmd.kill('SIGKILL');
    let started = false;
    cmd.on('start', () => {
      started = true;
      if (run.signal?.aborted) return onAbort();
      // set before ffmpeg opens its input and starts its threads, which inherit it
      const pid = (cmd as unknown as { ffmpegProc?: { pid?: number } }).ffmpegProc?.pid;
      if (run.niceness && pid) {
        try {
          setPriority(pid, run.niceness);
        } catch {
          // exited already: its own outcome says what happened
        }
      }
    });
    run.signal?.addEventListener('abort', onAbort, { once: true });
    cmd.on('end', () => {
      run.signal?.removeEventListener('abort', onAbort);
      // ffmpeg exits 0 when a remote source stops short ("Stream ends prematurely", then EOF):
      // what it wrote is a cut-off encode, not the video; the read is tried again
      const failure = stderr ? explainFailure(stderr, run.input) : undefined;
      if (failure?.transient) return reject(new RetryableError(`ffmpeg's read of the source was cut off: ${failure.reason}`));
      resolve();
    });
    cmd.on('error', (err: Error & { code?: unknown }) => {
      run.signal?.removeEventListener('abort', onAbort);
      if (run.signal?.aborted) return reject(stopped(run.signal));
      // before the run itself: fluent-ffmpeg's look at the binary (-formats, -encoders) failed
      if (!started || typeof err.code === 'string') return reject(new RetryableError(`ffmpeg could not be started: ${err.code ?? err.message}`));
      const killed = /killed with signal (\w+)/.exec(err.message);
      if (killed) return reject(new RetryableError(`ffmpeg was killed (${killed[1]})`));
      // 127: setpriv (or the shell) found no such binary
      if (/exited with code 127\b/.test(err.message)) return reject(new RetryableError('ffmpeg could not be started (is it installed?)'));
      const failure = explainFailure(stderr, run.input);
      if (failure.transient) return reject(new RetryableError(`ffmpeg could not read the source: ${failure.reason}`));
      const safeStderr = redactCredentials(stderr.split(run.input).join('<input>'));
      reject(new FfmpegError(`ffmpeg could not ${run.action}: ${failure.reason}`, safeStderr));
    });
    cmd.run();
  });
}

/** The abort's own reason when it is an error (a deleted video, a timeout), else a retryable stop. */
const stopped = (signal: AbortSignal): Error => (signal.reason instanceof Error ? signal.reason : new RetryableError('ffmpeg was stopped'));
