import { getVideoQuery, listPublicVideosQuery, listVideosQuery, serveQuery, Subjects, VIDEO_SUBJECTS } from '@reel/events';
import { jetstreamManager } from '@nats-io/jetstream';
import type { BoundConsumeOptions, ConfigOf, natsSpec, ServiceDeps } from '@reel/runtime';
import type { configSpec } from './config.ts';
import { openDb } from './db.ts';
import { isConnectionError, waitForDatabase } from './db-health.ts';
import { createProjection } from './projection.ts';
import { createQueries } from './queries.ts';
import { backfillRecords, openRecordBucket, recordPublisher } from './read-model.ts';
import { failStalledVideos } from './stall.ts';
import { sweepExpiredUploads } from './sweeper.ts';

/** The catalog: projects every video event into Postgres and answers the gateway's queries. */
export async function buildApp(deps: ServiceDeps<ConfigOf<typeof configSpec & typeof natsSpec>>): Promise<void> {
  const { config, log, nc, publisher, shutdown } = deps;
  const { db, ping, close } = await openDb(config.DATABASE_URL);
  shutdown.add('postgres', close);
  const queries = createQueries(db);
  const subs = [
    serveQuery(nc, getVideoQuery, queries.get, log),
    serveQuery(nc, listVideosQuery, queries.list, log),
    serveQuery(nc, listPublicVideosQuery, queries.listPublic, log),
  ];
  shutdown.add('queries', () => {
    for (const s of subs) s.unsubscribe();
  });
  const gate = waitForDatabase(ping, log);
  // the gateways' read model: filled before the projection starts, then written by it
  const recordKv = await openRecordBucket(nc, config.NATS_STREAM_REPLICAS);
  await backfillRecords(recordKv, db, log);
  const projection = createProjection(db, { publisher, onConnectionError: gate.suspect, records: recordPublisher(recordKv) });
  const options: Omit<BoundConsumeOptions, 'filter'> = {
    // every event of a deleted video is folded too: the fold itself keeps the deletion final
    tombstones: false,
    stage: 'catalog',
    // the fold makes order irrelevant and the row lock serializes each video's events
    concurrency: 4,
    ackWaitMs: 30_000,
    // while Postgres is down nothing is pulled (no nak storm); what was in flight is retried, and
    // the budget (1+2+5+10+20+30×14 s ≈ 7.6 min before the last delivery) outlives a 2-minute outage
    gate,
    backoffMs: [1000, 2000, 5000, 10_000, 20_000, 30_000],
    maxDeliver: 20,
  };
  await deps.consume('catalog', projection, { ...options, filter: VIDEO_SUBJECTS });
  // progress ticks are chatter in the LIVE stream (kept a minute), not history: folded as they come
  await deps.consume('catalog-live', projection, { ...options, filter: Subjects.progress });
  const jsm = await jetstreamManager(nc);
  const sweep = setInterval(() => {
    sweepExpiredUploads(db, publisher, log)
      .then(() => failStalledVideos({ db, jsm, publisher, log }, config.STALL_AFTER_SEC * 1000))
      .catch((err) =>
        isConnectionError(err) ? log.warn({ err }, 'sweep skipped: the database is unavailable') : log.warn({ err }, 'sweep failed; trying again next time'),
      );
  }, config.UPLOAD_SWEEP_INTERVAL_SEC * 1000);
  shutdown.add('sweeper', () => clearInterval(sweep));
}
