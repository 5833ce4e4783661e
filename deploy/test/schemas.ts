// Each app's full config schema, as runService builds it ({ ...natsSpec, ...configSpec }), for
// the deploy tests: every variable a deployment sets must be one of these (or OTEL_*).
import { configSpec as catalogSpec } from '../../apps/catalog/src/config.ts';
import { configSpec as gatewaySpec } from '../../apps/gateway/src/config.ts';
import { configSpec as ingestSpec } from '../../apps/ingest/src/config.ts';
import { configSpec as packagerSpec } from '../../apps/packager/src/config.ts';
import { configSpec as transcoderSpec } from '../../apps/transcoder/src/config.ts';
import { configSpec as webhooksSpec } from '../../apps/webhooks/src/config.ts';
import { type ConfigSpec, natsSpec } from '../../packages/runtime/src/mod.ts';

export const APPS = ['gateway', 'ingest', 'transcoder', 'packager', 'catalog', 'webhooks'] as const;
export type App = (typeof APPS)[number];

export const SCHEMAS: Record<App, ConfigSpec> = {
  gateway: { ...natsSpec, ...gatewaySpec },
  ingest: { ...natsSpec, ...ingestSpec },
  transcoder: { ...natsSpec, ...transcoderSpec },
  packager: { ...natsSpec, ...packagerSpec },
  catalog: { ...natsSpec, ...catalogSpec },
  webhooks: { ...natsSpec, ...webhooksSpec },
};

/**
 * Variables a service may get beyond its schema: the standard OpenTelemetry SDK ones, read by
 * packages/telemetry rather than the config loader. Nothing else.
 */
export const ALLOWED_EXTRA: readonly RegExp[] = [/^OTEL_[A-Z0-9_]+$/];

export const isKnown = (app: App, name: string): boolean => name in SCHEMAS[app] || ALLOWED_EXTRA.some((re) => re.test(name));

/** Schema variables that point at another service: set explicitly, never the 127.0.0.1 default. */
export const ENDPOINTS = ['NATS_URL', 'S3_ENDPOINT', 'DATABASE_URL'] as const;
