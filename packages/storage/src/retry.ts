import { withBackoff } from '@reel/runtime';
import { isTransientStorageError, StorageUnavailableError } from './errors.ts';

export interface RetryPolicy {
  /** How long one call may keep retrying a transient failure before it gives up (0: never retry). */
  readonly budgetMs: number;
  /** First backoff; doubles on each attempt up to `maxDelayMs` (with jitter). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

/**
 * Runs `fn` until it succeeds, retrying transient storage failures (see isTransientStorageError)
 * with exponential backoff for at most `policy.budgetMs`. Other errors are thrown at once, as is;
 * a transient failure that outlasts the budget becomes a StorageUnavailableError.
 * `fn` must be safe to call again: it is the caller's job not to pass a consumed stream.
 */
export async function retrying<T>(what: string, policy: RetryPolicy, fn: () => Promise<T>): Promise<T> {
  try {
    return await withBackoff(fn, { ...policy, retryable: isTransientStorageError });
  } catch (err) {
    if (!isTransientStorageError(err) || err instanceof StorageUnavailableError) throw err;
    throw new StorageUnavailableError(`storage is unavailable (${what}: ${describe(err)})`, { cause: err });
  }
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return String((typeof e?.code === 'string' && e.code) || (typeof e?.message === 'string' && e.message) || err).slice(0, 120);
}
