import { setTimeout as sleep } from 'node:timers/promises';

export interface Backoff {
  /** Whether a failure is worth another try; any other is thrown at once, as it is. */
  retryable(err: unknown): boolean;
  /** How long, from the first try, to keep trying; a failure whose next wait would end past it is thrown as it is. */
  readonly budgetMs: number;
  /** The first wait (default 100 ms); each one doubles, up to `maxDelayMs` (default 5 s). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Told of each failure that is tried again, before the wait. */
  onRetry?(err: unknown, delayMs: number): void;
  /** Ends the tries: no more after it fires, and a wait it cuts short throws its reason (an Error), else the last failure. */
  readonly signal?: AbortSignal;
}

/**
 * Runs `fn` until it succeeds, waiting between tries with exponential backoff and full jitter
 * (half to all of each wait), which keeps callers that failed together from coming back together.
 * `fn` must be safe to call again.
 */
export async function withBackoff<T>(fn: () => Promise<T>, b: Backoff): Promise<T> {
  const started = Date.now();
  const base = b.baseDelayMs ?? 100;
  const max = b.maxDelayMs ?? 5_000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!b.retryable(err) || b.signal?.aborted) throw err;
      const delay = Math.min(max, base * 2 ** attempt) * (0.5 + Math.random() / 2);
      if (Date.now() - started + delay > b.budgetMs) throw err;
      b.onRetry?.(err, Math.round(delay));
      await sleep(delay, undefined, { signal: b.signal }).catch(() => {});
      if (b.signal?.aborted) throw b.signal.reason instanceof Error ? b.signal.reason : err;
    }
  }
}
