import { isQueryError } from '@reel/events';

/** An error with its HTTP status and machine-readable code: the one error shape the API returns. */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.code = code;
  }
}
export const isHttpError = (err: unknown): err is HttpError => err instanceof HttpError;

/** Query error codes from the services, mapped to HTTP statuses in one place. */
const QUERY_STATUS: Record<string, number> = { not_found: 404, bad_request: 400, forbidden: 403, conflict: 409, unavailable: 503 };

/** Maps any error to `{ status, code, message }`; 5xx details stay in the logs. */
export function toHttp(err: unknown): { status: number; code: string; message: string } {
  if (isHttpError(err)) return { status: err.status, code: err.code, message: err.message };
  if (isQueryError(err)) {
    const status = QUERY_STATUS[err.code] ?? 502;
    return { status, code: err.code, message: status >= 500 ? 'a service did not answer; try again' : err.message };
  }
  const e = err as { statusCode?: number; code?: string; validation?: unknown; message?: string };
  if (e?.statusCode === 429) return { status: 429, code: 'rate_limited', message: e.message ?? 'too many requests' };
  if (e?.validation) return { status: 400, code: 'bad_request', message: e.message ?? 'invalid request' };
  if (e?.statusCode === 413 || e?.code === 'FST_REQ_FILE_TOO_LARGE') return { status: 413, code: 'too_large', message: 'the upload is larger than the limit' };
  if (e?.statusCode === 415 || e?.code === 'FST_INVALID_MULTIPART_CONTENT_TYPE')
    return { status: 415, code: 'unsupported_media_type', message: e.message ?? 'unsupported content type' };
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) return { status: e.statusCode, code: 'bad_request', message: e.message ?? 'bad request' };
  return { status: 500, code: 'internal', message: 'internal error' };
}
