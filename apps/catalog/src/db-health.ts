import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@reel/events';

/** SQLSTATEs that mean "the server is going away or not taking connections", not "the query is wrong". */
const TRANSIENT_SQLSTATE = /^(08|57P0[1-3]|53300)/;
/** Socket-level and postgres.js connection failures. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/**
 * True when Postgres could not be reached or dropped the connection (down, restarting, full):
 * the same statement may succeed later. Looks through drizzle's wrapper (`cause`) and Node's
 * AggregateError (one refusal per address).
 */
export function isConnectionError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || TRANSIENT_SQLSTATE.test(e.code))) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isConnectionError(x, depth + 1))) return true;
  return isConnectionError(e.cause, depth + 1);
}

export interface DatabaseGateOptions {
  /** First wait after a failed ping; doubles up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A ping slower than this counts as down (an unreachable host does not refuse, it hangs). */
  pingTimeoutMs?: number;
  /** A successful ping is trusted this long, so a busy consumer does not ping before every fetch. */
  freshMs?: number;
}

/**
 * A `consume()` gate: resolves once `select 1` answers. While Postgres is down it waits with
 * backoff instead of letting the consumer pull messages only to nak them (a nak storm that also
 * burns every message's retry budget); it logs once when the database goes away and once when it
 * is back. Resolves early (without a working database) when `signal` aborts, for shutdown.
 */
export interface DatabaseGate {
  (signal: AbortSignal): Promise<void>;
  /** A statement just failed to reach the database: ping before the next fetch, however fresh the last answer. */
  suspect(): void;
}

export function waitForDatabase(ping: () => Promise<unknown>, log: Logger, opts: DatabaseGateOptions = {}): DatabaseGate {
  const { minDelayMs = 250, maxDelayMs = 2000, pingTimeoutMs = 5000, freshMs = 1000 } = opts;
  let okAt = 0;
  let downSince: number | undefined;
  const pingOnce = async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer from the database within ${pingTimeoutMs} ms`)), pingTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  const gate = async (signal: AbortSignal) => {
    if (Date.now() - okAt < freshMs) return;
    for (let delay = minDelayMs; !signal.aborted; delay = Math.min(maxDelayMs, delay * 2)) {
      try {
        await pingOnce();
        okAt = Date.now();
        if (downSince !== undefined) {
          log.info({ downForMs: okAt - downSince }, 'database is back; pulling events again');
          downSince = undefined;
        }
        return;
      } catch (err) {
        if (downSince === undefined) {
          downSince = Date.now();
          log.warn({ err }, 'database is unavailable; not pulling events until it answers');
        }
        await sleep(delay, undefined, { signal }).catch(() => {});
      }
    }
  };
  return Object.assign(gate, {
    suspect() {
      okAt = 0;
    },
  });
}
