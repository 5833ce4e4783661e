/**
 * Storage could not be reached, or said it is overloaded or broken (connection refused or reset,
 * a timeout, a 5xx, SlowDown), for longer than the retry budget: the same call may succeed later.
 * Every other storage error (NoSuchKey, AccessDenied, a malformed request) is passed through as is.
 */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export const isStorageUnavailableError = (err: unknown): err is StorageUnavailableError => err instanceof StorageUnavailableError;

/** Socket-level failures: the server is down, restarting or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** S3 error codes that mean "try again later" (5xx and throttling). */
const S3_TRANSIENT_CODES = new Set([
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'OperationAborted',
  'Throttling',
  'ThrottlingException',
  'TooManyRequests',
  'RequestLimitExceeded',
  'BadGateway',
  'GatewayTimeout',
]);

/**
 * True when a storage call failed for a reason that retrying may fix. Reads the shapes of both
 * clients in use: minio-js (`code` on the error or its cause) and AWS SDK v3 (`$metadata`).
 */
export function isTransientStorageError(err: unknown): boolean {
  if (isStorageUnavailableError(err)) return true;
  for (let e = err as Record<string, unknown> | undefined, depth = 0; e && typeof e === 'object' && depth < 4; e = e.cause as never, depth++) {
    const code = typeof e.code === 'string' ? e.code : typeof e.Code === 'string' ? e.Code : undefined;
    if (code && (NETWORK_CODES.has(code) || S3_TRANSIENT_CODES.has(code))) return true;
    const status = (e.$metadata as { httpStatusCode?: number } | undefined)?.httpStatusCode ?? (e.statusCode as number | undefined);
    if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
    if (e.name === 'TimeoutError' || e.name === 'HeadersTimeoutError' || e.name === 'BodyTimeoutError') return true;
  }
  return false;
}
