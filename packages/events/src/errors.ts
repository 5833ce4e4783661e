/** An error with a machine-readable `code` beside its sentence (the base of PermanentError and QueryError). */
abstract class CodedError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A failure that may succeed if tried again later (storage hiccup, timeout): the message is nak'ed with backoff. */
export class RetryableError extends Error {
  override name = 'RetryableError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A failure that will never succeed (the input is unusable): the message is terminated and
 * `video.failed` is published with this error's `code`.
 */
export class PermanentError extends CodedError {
  override name = 'PermanentError';
}

/** A message that does not match its subject's schema (or is not JSON, or has an unknown version). */
export class InvalidMessageError extends Error {
  override name = 'InvalidMessageError';
  readonly problems: string[];
  constructor(message: string, problems: string[] = [], options?: ErrorOptions) {
    super(problems.length ? `${message}: ${problems.join('; ')}` : message, options);
    this.problems = problems;
  }
}

/** A request-reply query answered with an error (`code` is machine-readable). */
export class QueryError extends CodedError {
  override name = 'QueryError';
}

export const isRetryableError = (err: unknown): err is RetryableError => err instanceof RetryableError;
export const isPermanentError = (err: unknown): err is PermanentError => err instanceof PermanentError;
export const isInvalidMessageError = (err: unknown): err is InvalidMessageError => err instanceof InvalidMessageError;
export const isQueryError = (err: unknown): err is QueryError => err instanceof QueryError;
