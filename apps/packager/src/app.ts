import { consume, Subjects } from '@reel/events';
import type { ConfigOf, ServiceDeps } from '@reel/runtime';
import { createStorage, guardWrites } from '@reel/storage';
import { createDeletedHandler } from './handlers/video-deleted.ts';
import type { configSpec } from './config.ts';
import { createTranscodedHandler } from './handlers/video-transcoded.ts';

/**
 * Retries: 1 s, 5 s, 15 s, 30 s, then every 60 s; with 10 deliveries a message outlives an
 * outage of S3 or NATS of about 6 minutes.
 */
const BACKOFF_MS = [1000, 5000, 15_000, 30_000, 60_000];
const MAX_DELIVER = 10;

/** The packager: one durable consumer of video.transcoded, and the clean-up of a deleted video's media. */
export async function buildApp(deps: ServiceDeps<ConfigOf<typeof configSpec>>): Promise<void> {
  const { config, log, nc, publisher, shutdown, tombstones } = deps;
  const storage = guardWrites(createStorage(config), tombstones.assertAlive);
  const sub = await consume(nc, {
    durable: 'packager',
    filter: Subjects.transcoded,
    handlers: { [Subjects.transcoded]: createTranscodedHandler({ storage, publisher }) },
    log,
    publisher,
    tombstones,
    stage: 'package',
    concurrency: 2,
    ackWaitMs: 30_000,
    maxDeliver: MAX_DELIVER,
    backoffMs: BACKOFF_MS,
  });
  const deleted = await consume(nc, {
    durable: 'packager-deleted',
    filter: Subjects.deleted,
    handlers: { [Subjects.deleted]: createDeletedHandler(storage) },
    log,
    publisher,
    tombstones,
    stage: 'package',
    maxDeliver: MAX_DELIVER,
    backoffMs: BACKOFF_MS,
  });
  shutdown.add('consumers', () => Promise.all([sub.stop(), deleted.stop()]));
}
