import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';

export interface Telemetry {
  /** Flushes and stops exporting; safe to call more than once. */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK for one service, configured only through the standard
 * `OTEL_*` variables. With no exporter configured it still installs the W3C propagator and a
 * context manager (so trace context crosses every NATS hop) but exports nothing, quietly.
 * Tests pass `spanProcessors` (an in-memory exporter).
 */
export function startTelemetry(opts: { serviceName: string; env?: Record<string, string | undefined>; spanProcessors?: SpanProcessor[] }): Telemetry {
  const env = opts.env ?? process.env;
  if (/^true$/i.test(env.OTEL_SDK_DISABLED ?? '')) return { shutdown: async () => {} };
  process.env.OTEL_SERVICE_NAME ??= opts.serviceName;
  const configured = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_TRACES_EXPORTER);
  if (!configured) {
    process.env.OTEL_METRICS_EXPORTER ??= 'none';
    process.env.OTEL_LOGS_EXPORTER ??= 'none';
  }
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || opts.serviceName,
    instrumentations: [],
    ...(opts.spanProcessors ? { spanProcessors: opts.spanProcessors } : configured ? {} : { spanProcessors: [] }),
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  return {
    shutdown: () => {
      stopped ??= sdk.shutdown().catch(() => {});
      return stopped;
    },
  };
}

/**
 * For tests: an in-memory exporter and the processor that feeds it, from the same copy of the
 * SDK that startTelemetry uses (two copies would not see each other's spans).
 */
export { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
