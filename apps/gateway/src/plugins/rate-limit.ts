import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from '../errors.ts';

export interface LimitsConfig {
  RATE_LIMIT_WRITES_PER_MIN: number;
  RATE_LIMIT_READS_PER_MIN: number;
  SSE_MAX_STREAMS_PER_CALLER: number;
}

/** Per-caller limits, decorated on the app as `app.limits`. */
export interface Limits {
  /** Route config of a write (`{ config: app.limits.write }`): RATE_LIMIT_WRITES_PER_MIN per caller, per route. */
  write: { rateLimit: { max: number; timeWindow: number } };
  /** onRequest hook of a read: one budget of RATE_LIMIT_READS_PER_MIN per caller shared by every read route. */
  read: onRequestHookHandler;
  /** Takes one of the caller's event-stream slots (429 when all are in use); call the result when the stream ends. */
  openStream(req: FastifyRequest): () => void;
}

declare module 'fastify' {
  interface FastifyInstance {
    limits: Limits;
  }
}

/** How long a client refused a stream slot should wait before asking again. */
const STREAM_RETRY_AFTER_SEC = 30;

/**
 * The network a client address stands for: an IPv4 address itself, an IPv6 address by its /64
 * (one host usually holds a whole /64, so single addresses would be free for the taking).
 */
export function clientNetwork(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!ip.includes(':')) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Who a request counts against: the verified `sub` of its bearer token (request.viewer, set by the
 * auth plugin: the header spelled any way auth accepts it, or the SSE `access_token`), else its
 * client address — the socket's, or X-Forwarded-For's only through proxies TRUST_PROXY names. An
 * invalid token counts as no token.
 */
const callerKey = (req: FastifyRequest): string => (req.viewer ? `sub:${req.viewer}` : `ip:${clientNetwork(req.ip)}`);

/** @fastify/rate-limit keyed on the caller, and `app.limits`; needs the auth plugin registered first. */
export const limitsPlugin = fp(
  async (app, config: LimitsConfig) => {
    await app.register(rateLimit, {
      global: false,
      keyGenerator: callerKey,
      // many distinct callers (a flood of addresses) only push the oldest out
      cache: 10_000,
      errorResponseBuilder: (_req, ctx) => {
        const retryAfterSec = Math.max(1, Math.ceil(ctx.ttl / 1000));
        return { statusCode: 429, code: 'rate_limited', message: `too many requests; try again in ${retryAfterSec} s`, retryAfterSec };
      },
    });
    const streams = new Map<string, number>();
    app.decorate('limits', {
      write: { rateLimit: { max: config.RATE_LIMIT_WRITES_PER_MIN, timeWindow: 60_000 } },
      read: app.rateLimit({ max: config.RATE_LIMIT_READS_PER_MIN, timeWindow: 60_000 }),
      openStream(req) {
        const key = callerKey(req);
        const open = streams.get(key) ?? 0;
        if (open >= config.SSE_MAX_STREAMS_PER_CALLER)
          throw new HttpError(429, 'rate_limited', `at most ${config.SSE_MAX_STREAMS_PER_CALLER} event streams may be open at once; close one first`, {
            retryAfterSec: STREAM_RETRY_AFTER_SEC,
          });
        streams.set(key, open + 1);
        let released = false;
        return () => {
          if (released) return;
          released = true;
          const n = (streams.get(key) ?? 1) - 1;
          if (n > 0) streams.set(key, n);
          else streams.delete(key);
        };
      },
    } satisfies Limits);
  },
  { name: 'reel-limits', dependencies: ['reel-auth'] },
);
