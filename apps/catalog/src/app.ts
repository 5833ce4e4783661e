import { consume, getVideoQuery, listVideosQuery, serveQuery, VIDEO_SUBJECTS } from '@reel/events';
import type { ConfigOf, ServiceDeps } from '@reel/runtime';
import type { configSpec } from './config.ts';
import { openDb } from './db.ts';
import { createProjection } from './projection.ts';
import { createQueries } from './queries.ts';
import { sweepExpiredUploads } from './sweeper.ts';

/** The catalog: projects every video event into Postgres and answers the gateway's queries. */
export async function buildApp(deps: ServiceDeps<ConfigOf<typeof configSpec>>): Promise<void> {
  const { config, log, nc, publisher, shutdown } = deps;
  const { db, close } = await openDb(config.DATABASE_URL);
  shutdown.add('postgres', close);
  const queries = createQueries(db);
  const subs = [serveQuery(nc, getVideoQuery, queries.get, log), serveQuery(nc, listVideosQuery, queries.list, log)];
  shutdown.add('queries', () => {
    for (const s of subs) s.unsubscribe();
  });
  const projection = await consume(nc, {
    durable: 'catalog',
    filter: VIDEO_SUBJECTS,
    handlers: createProjection(db),
    log,
    publisher,
    stage: 'catalog',
    // one at a time keeps each video's events in stream order
    concurrency: 1,
    ackWaitMs: 30_000,
    maxDeliver: 10,
  });
  shutdown.add('projection', () => projection.stop());
  const sweep = setInterval(() => {
    sweepExpiredUploads(db, publisher, log).catch((err) => log.error({ err }, 'upload sweep failed'));
  }, config.UPLOAD_SWEEP_INTERVAL_SEC * 1000);
  shutdown.add('sweeper', () => clearInterval(sweep));
}
