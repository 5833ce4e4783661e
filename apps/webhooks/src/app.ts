import { createWebhookQuery, deleteWebhookQuery, listWebhookDeliveriesQuery, listWebhooksQuery, serveQuery, VIDEO_SUBJECTS } from '@reel/events';
import type { ConfigOf, ServiceDeps } from '@reel/runtime';
import { type configSpec, parseBackoff } from './config.ts';
import { openDb } from './db.ts';
import { startDispatcher } from './dispatcher.ts';
import { createIntake } from './intake.ts';
import { createQueries } from './queries.ts';

/**
 * Webhooks: answers the gateway's webhook queries, turns the owner's video events into deliveries
 * (its own durable consumer) and sends them, signed, with retries kept in Postgres.
 */
export async function buildApp(deps: ServiceDeps<ConfigOf<typeof configSpec>>): Promise<void> {
  const { config, log, nc, shutdown } = deps;
  const backoffMs = parseBackoff(config.WEBHOOK_BACKOFF_MS);
  if (config.WEBHOOK_ALLOW_PRIVATE) log.warn({}, 'WEBHOOK_ALLOW_PRIVATE is on: webhooks may call loopback and private addresses');
  const { db, close } = await openDb(config.DATABASE_URL);
  shutdown.add('postgres', close);
  const queries = createQueries(db, { allowPrivate: config.WEBHOOK_ALLOW_PRIVATE });
  const subs = [
    serveQuery(nc, createWebhookQuery, queries.create, log),
    serveQuery(nc, listWebhooksQuery, queries.list, log),
    serveQuery(nc, deleteWebhookQuery, queries.remove, log),
    serveQuery(nc, listWebhookDeliveriesQuery, queries.deliveries, log),
  ];
  shutdown.add('queries', () => {
    for (const s of subs) s.unsubscribe();
  });
  const dispatcher = startDispatcher(db, log, {
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    backoffMs,
    retryForMs: config.WEBHOOK_RETRY_FOR_SEC * 1000,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    pollMs: config.WEBHOOK_POLL_MS,
  });
  shutdown.add('dispatcher', () => dispatcher.stop());
  await deps.consume('webhooks', createIntake(db, dispatcher.kick), {
    filter: VIDEO_SUBJECTS,
    // only an undecodable message makes consume() publish video.failed (as every consumer of it does, same id);
    // the handlers never fail for good, and a database outage is retried for as long as it lasts
    stage: 'catalog',
    ackWaitMs: 30_000,
    backoffMs: [500, 1000, 2000, 5000, 10_000, 30_000],
    maxDeliver: 10_000,
  });
}
