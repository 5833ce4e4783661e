import { consume, Subjects } from '@reel/events';
import type { ConfigOf, ServiceDeps } from '@reel/runtime';
import { createStorage } from '@reel/storage';
import { createDeletedHandler } from './handlers/video-deleted.ts';
import type { configSpec } from './config.ts';
import { createTranscodedHandler } from './handlers/video-transcoded.ts';

/** The packager: one durable consumer of video.transcoded. */
export async function buildApp(deps: ServiceDeps<ConfigOf<typeof configSpec>>): Promise<void> {
  const { config, log, nc, publisher, shutdown } = deps;
  const storage = createStorage(config);
  const sub = await consume(nc, {
    durable: 'packager',
    filter: Subjects.transcoded,
    handlers: { [Subjects.transcoded]: createTranscodedHandler({ storage, publisher }) },
    log,
    publisher,
    stage: 'package',
    concurrency: 2,
    ackWaitMs: 30_000,
    maxDeliver: 6,
    backoffMs: [500, 2000, 5000, 15_000],
  });
  const deleted = await consume(nc, {
    durable: 'packager-deleted',
    filter: Subjects.deleted,
    handlers: { [Subjects.deleted]: createDeletedHandler(storage) },
    log,
    publisher,
    stage: 'package',
    maxDeliver: 10,
  });
  shutdown.add('consumers', () => Promise.all([sub.stop(), deleted.stop()]));
}
