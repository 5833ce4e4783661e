import { trace } from '@opentelemetry/api';
import type { Logger } from '@reel/events';
import { pino } from 'pino';

/** JSON logs with the service name, and `trace_id`/`span_id` on every line written inside a span. */
export function createLogger(service: string, level = 'info'): Logger & pino.Logger {
  return pino({
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['*.authorization', '*.headers.authorization', '*.secretKey', '*.password'], censor: '[redacted]' },
    mixin() {
      const ctx = trace.getActiveSpan()?.spanContext();
      return ctx ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
    },
  });
}
