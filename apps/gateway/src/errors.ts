import { isQueryError } from '@reel/events';
import { isStorageUnavailableError, isTransientStorageError } from '@reel/storage';

/** An error with its HTTP status and machine-readable code: the one error shape the API returns. */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly code: string;
  /** Seconds after which the same request may succeed (sent as `Retry-After`). */
  readonly retryAfterSec: number | undefined;
  constructor(status: number, code: string, message: string, options?: ErrorOptions & { retryAfterSec?: number }) {
    super(message, options);
    this.status = status;
    this.code = code;
    this.retryAfterSec = options?.retryAfterSec;
  }
}
export const isHttpError = (err: unknown): err is HttpError => err instanceof HttpError;

/** What the API answers for an error. */
export interface HttpAnswer {
  status: number;
  code: string;
  message: string;
  /** `Retry-After` in seconds, for 429 and 503. */
  retryAfterSec?: number;
}

/** How long a client should wait before trying again when a service, NATS or storage is down. */
const OUTAGE_RETRY_AFTER_SEC = 5;

/** Query error codes from the services, mapped to HTTP statuses in one place. */
const QUERY_STATUS: Record<string, number> = { not_found: 404, bad_request: 400, forbidden: 403, conflict: 409, unavailable: 503 };

/** What busboy (under @fastify/multipart) throws for a malformed body; it has no error codes. */
const MALFORMED_MULTIPART = [
  /^Multipart: Boundary not found$/,
  /^Boundary required$/,
  /^Unexpected end of multipart data$/,
  /terminated early due to unexpected end of multipart data$/,
  /^Missing Content-Type-header\.$/,
  /^Unsupported Content-Type\.$/,
  /^Malformed part header$/,
];

/** nats.js errors that mean "NATS is not reachable right now" (disconnected, draining, no JetStream answer). */
const NATS_DOWN = new Set([
  'TimeoutError',
  'NoResponders',
  'RequestError',
  'ClosedConnectionError',
  'DrainingConnectionError',
  'ConnectionError',
  'JetStreamNotEnabled',
]);

type Shape = {
  name?: string;
  message?: string;
  code?: unknown;
  status?: unknown;
  statusCode?: number;
  validation?: unknown;
  cause?: unknown;
  retryAfterSec?: number;
};

/** The error and its causes, outermost first (a few levels: wrappers add a cause each). */
function chain(err: unknown): Shape[] {
  const out: Shape[] = [];
  for (let e = err as Shape | undefined, i = 0; e && typeof e === 'object' && i < 5; e = e.cause as Shape | undefined, i++) out.push(e);
  return out;
}

const unavailable = (what: string): HttpAnswer => ({
  status: 503,
  code: 'unavailable',
  message: `${what} is unavailable; try again shortly`,
  retryAfterSec: OUTAGE_RETRY_AFTER_SEC,
});

/** Maps any error to the API's answer; 5xx details stay in the logs. */
export function toHttp(err: unknown): HttpAnswer {
  if (isHttpError(err))
    return { status: err.status, code: err.code, message: err.message, ...(err.retryAfterSec !== undefined ? { retryAfterSec: err.retryAfterSec } : {}) };
  if (isQueryError(err)) {
    const status = QUERY_STATUS[err.code] ?? 502;
    if (status === 503) return unavailable('a service');
    return { status, code: err.code, message: status >= 500 ? 'a service did not answer; try again' : err.message };
  }
  const e = (err ?? {}) as Shape;
  // the rate limiter's refusal (a plain object, not an Error)
  if (e.statusCode === 429)
    return {
      status: 429,
      code: 'rate_limited',
      message: e.message ?? 'too many requests',
      ...(e.retryAfterSec !== undefined ? { retryAfterSec: e.retryAfterSec } : {}),
    };
  if (e.validation) return { status: 400, code: 'bad_request', message: e.message ?? 'invalid request' };
  const causes = chain(err);
  const malformed = causes.find((c) => typeof c.message === 'string' && MALFORMED_MULTIPART.some((re) => re.test(c.message as string)));
  if (malformed) return { status: 400, code: 'bad_request', message: `malformed multipart/form-data: ${malformed.message}` };
  if (causes.some((c) => (c.name && NATS_DOWN.has(c.name)) || (c.name === 'JetStreamApiError' && c.status === 503))) return unavailable('the event bus');
  // (Fastify's own errors carry a statusCode too: they are not storage's)
  const fastifyError = typeof e.code === 'string' && e.code.startsWith('FST_');
  if (!fastifyError && (isStorageUnavailableError(err) || isTransientStorageError(err))) return unavailable('storage');
  if (e.code === 'FST_PARTS_LIMIT' || e.code === 'FST_FILES_LIMIT' || e.code === 'FST_FIELDS_LIMIT')
    return { status: 413, code: 'too_large', message: 'the form has too many parts, files or fields' };
  if (e.statusCode === 413 || e.code === 'FST_REQ_FILE_TOO_LARGE') return { status: 413, code: 'too_large', message: 'the upload is larger than the limit' };
  if (e.statusCode === 415 || e.code === 'FST_INVALID_MULTIPART_CONTENT_TYPE')
    return { status: 415, code: 'unsupported_media_type', message: e.message ?? 'unsupported content type' };
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return { status: e.statusCode, code: 'bad_request', message: e.message ?? 'bad request' };
  return { status: 500, code: 'internal', message: 'internal error' };
}
