import { Subjects } from '@reel/events';
import type { ConfigOf, ServiceDeps } from '@reel/runtime';
import { createStorage, guardWrites } from '@reel/storage';
import { createDeletedHandler } from './handlers/video-deleted.ts';
import type { configSpec } from './config.ts';
import { createPackager } from './handlers/video-transcoded.ts';

/**
 * Retries: 1 s, 5 s, 15 s, 30 s, then every 60 s; with 10 deliveries a message outlives an
 * outage of S3 or NATS of about 6 minutes.
 */
const BACKOFF_MS = [1000, 5000, 15_000, 30_000, 60_000];
const MAX_DELIVER = 10;

/** The packager: durable consumers of video.transcoded and video.audio.transcoded, and the clean-up of a deleted video's media. */
export async function buildApp(deps: ServiceDeps<ConfigOf<typeof configSpec>>): Promise<void> {
  const { config, publisher, tombstones } = deps;
  const storage = guardWrites(createStorage(config), tombstones.assertAlive);
  const packager = createPackager({ storage, publisher });
  const options = { stage: 'package', concurrency: 2, ackWaitMs: 30_000, maxDeliver: MAX_DELIVER, backoffMs: BACKOFF_MS } as const;
  await deps.consume('packager', { [Subjects.transcoded]: packager.transcoded }, options);
  // the audio rendition may be the last piece a video waits for
  await deps.consume('packager-audio', { [Subjects.audioTranscoded]: packager.audioTranscoded }, options);
  await deps.consume(
    'packager-deleted',
    { [Subjects.deleted]: createDeletedHandler(storage) },
    { stage: 'package', maxDeliver: MAX_DELIVER, backoffMs: BACKOFF_MS },
  );
}
