import { trace } from '@opentelemetry/api';
import type { Logger } from '@reel/events';
import { pino } from 'pino';

/**
 * Query parameters of a presigned S3 URL that are, or lead to, a credential. The value stops at
 * what cannot be in it URL-encoded: a delimiter, a quote or a JSON escape's backslash (so a
 * redacted JSON line stays valid JSON), or `:` (ffmpeg writes `<url>: <error>`).
 */
const AMZ_PARAM = /(X-Amz-(?:Credential|Signature|Security-Token)=)[^&\s"'<>\\:]+/gi;

/**
 * A presigned URL's credential, signature and session token replaced by `[redacted]`; the rest
 * (bucket, key, expiry) stays readable for whoever debugs.
 */
export function redactCredentials(text: string): string {
  return /x-amz-/i.test(text) ? text.replace(AMZ_PARAM, '$1[redacted]') : text;
}

/**
 * JSON logs with the service name, and `trace_id`/`span_id` on every line written inside a span.
 * Last line of defence for secrets: known paths are censored, and every line, once serialized
 * (message, fields, child bindings, errors with their causes and own properties), loses any
 * presigned-URL credential before it is written.
 */
export function createLogger(service: string, level = 'info', destination?: pino.DestinationStream): Logger & pino.Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['*.authorization', '*.headers.authorization', '*.secretKey', '*.password'], censor: '[redacted]' },
    hooks: { streamWrite: redactCredentials },
    mixin() {
      const ctx = trace.getActiveSpan()?.spanContext();
      return ctx ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
