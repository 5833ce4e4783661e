// The real catalog (bootService + buildApp, as main.ts runs it) on test infrastructure of its own,
// with a NATS connection for the test: the opening of the catalog's integration tests.
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createPublisher, type Publisher } from '@reel/events';
import { bootService } from '@reel/runtime';
import { type Infra, startTestInfra } from '@reel/stack';
import type { Test } from 'tap';
import { buildApp } from '../src/app.ts';
import { configSpec } from '../src/config.ts';

export async function bootCatalog(
  t: Test,
  env: Record<string, string> = {},
): Promise<{ infra: Infra; nc: NatsConnection; publisher: Publisher; jsm: JetStreamManager }> {
  const infra = await startTestInfra(t.teardown);
  const { shutdown } = await bootService({
    name: 'catalog',
    spec: configSpec,
    env: { ...infra.env, ...env, LOG_LEVEL: process.env.REEL_TEST_LOGS ? 'info' : 'silent' },
    build: buildApp,
  });
  t.teardown(() => shutdown.run('test over'));
  const nc = await connect({ servers: infra.env.NATS_URL });
  t.teardown(() => nc.drain());
  return { infra, nc, publisher: createPublisher(nc), jsm: await jetstreamManager(nc) };
}
