import type { Logger } from '@reel/events';
import { withBackoff } from '@reel/runtime';
import { isTransientStorageError } from '@reel/storage';

export interface PersistOptions {
  signal: AbortSignal;
  log: Logger;
  /** How long to keep trying, beyond each storage call's own in-place retries. */
  budgetMs?: number;
  /** Called while waiting, to tell JetStream the handler is alive. */
  working?: () => void;
  /** Which failures are an outage worth waiting out (default: storage's). */
  isTransient?: (err: unknown) => boolean;
}

/** NATS could not be reached or JetStream did not answer in time (a restart, a leader election). */
const NATS_OUTAGE = new Set(['TimeoutError', 'NoRespondersError', 'ConnectionError', 'RequestError']);
export const isNatsOutage = (err: unknown): boolean => NATS_OUTAGE.has((err as Error | undefined)?.name ?? '');

const PERSIST_BUDGET_MS = 10 * 60_000;

/**
 * Runs a write of finished work until it succeeds: an encode costs minutes, so an outage of
 * storage longer than a storage call's own retry budget is waited out here instead of throwing the
 * encode away (the same holds for the NATS publish that reports it). Only outages are retried;
 * anything else (a deleted video, an access error) is thrown at once, and so is the last failure
 * once the budget is spent.
 */
export function persist<T>(what: string, fn: () => Promise<T>, opts: PersistOptions): Promise<T> {
  return withBackoff(fn, {
    retryable: opts.isTransient ?? isTransientStorageError,
    budgetMs: opts.budgetMs ?? PERSIST_BUDGET_MS,
    baseDelayMs: 1000,
    maxDelayMs: 15_000,
    signal: opts.signal,
    onRetry: (err, retryInMs) => {
      opts.log.warn({ err, retryInMs }, `${what}: not stored yet (outage); finished work kept, trying again`);
      opts.working?.();
    },
  });
}
