import { setTimeout as sleep } from 'node:timers/promises';

export interface UntilOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between two tries (default 50 ms). */
  everyMs?: number;
  /** A throw counts as "not yet" (a server coming back), and the last one is reported at the deadline. */
  retryErrors?: boolean;
  /** What the test saw, added to the timeout message (the page's address, the spans so far). */
  explain?: () => string | Promise<string>;
}

/**
 * Asks `fn` again and again until it gives a value (anything but undefined, null or false) and
 * returns that value; after `timeoutMs` it fails, naming `what`. What a test waits for instead
 * of sleeping.
 */
export async function until<T>(
  what: string,
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: UntilOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      if (!opts.retryErrors) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError ? `: ${(lastError as Error).message}` : '';
      const seen = opts.explain ? ` (${await opts.explain()})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}${seen}`, { cause: lastError });
    }
    await sleep(opts.everyMs ?? 50);
  }
}

/**
 * Asks `fn` until `done(value)` holds or `timeoutMs` (10 s) passes, and returns the last value
 * either way, so the test's own assertion reports what was seen.
 */
export async function poll<T>(fn: () => T | Promise<T>, done: (value: T) => boolean, opts: Pick<UntilOptions, 'timeoutMs' | 'everyMs'> = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let value = await fn();
  while (!done(value) && Date.now() < deadline) {
    await sleep(opts.everyMs ?? 50);
    value = await fn();
  }
  return value;
}

/**
 * Asks `fn` every `everyMs` (500 ms) until two answers in a row are equal and returns that answer,
 * or the last one after `timeoutMs` (30 s): what a server reports once it has finished with what
 * it was sent (the offset of an interrupted upload).
 */
export async function settled<T>(fn: () => T | Promise<T>, opts: Pick<UntilOptions, 'timeoutMs' | 'everyMs'> = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let previous: { value: T } | undefined;
  for (;;) {
    await sleep(opts.everyMs ?? 500);
    const value = await fn();
    if ((previous && Object.is(previous.value, value)) || Date.now() >= deadline) return value;
    previous = { value };
  }
}
