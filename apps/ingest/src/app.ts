import { Subjects } from '@reel/events';
import { createMedia, resolveFfmpeg } from '@reel/media';
import type { ConfigOf, ServiceDeps } from '@reel/runtime';
import { createStorage, guardWrites } from '@reel/storage';
import { createDeletedHandler } from './handlers/video-deleted.ts';
import type { configSpec } from './config.ts';
import { createUploadedHandler } from './handlers/video-uploaded.ts';
import { planChunks } from './ladder.ts';

/**
 * Retries: 1 s, 5 s, 15 s, 30 s, then every 60 s; with 10 deliveries a message outlives an
 * outage of S3 or NATS of about 6 minutes.
 */
const BACKOFF_MS = [1000, 5000, 15_000, 30_000, 60_000];
const MAX_DELIVER = 10;

/** Ingest: one durable consumer of video.uploaded, and the clean-up of a deleted video's source. */
export async function buildApp(deps: ServiceDeps<ConfigOf<typeof configSpec>>): Promise<void> {
  const { config, publisher, tombstones } = deps;
  const storage = guardWrites(createStorage(config), tombstones.assertAlive);
  planChunks(0, config.CHUNK_SEC); // a chunk length that is not whole segments is refused at start, not per upload
  const uploaded = createUploadedHandler({
    storage,
    publisher,
    media: createMedia(resolveFfmpeg(config)),
    limits: { maxDurationSec: config.MAX_DURATION_SEC, maxResolution: config.MAX_RESOLUTION, maxUploadBytes: config.MAX_UPLOAD_BYTES },
    chunkSec: config.CHUNK_SEC,
  });
  await deps.consume(
    'ingest',
    { [Subjects.uploaded]: uploaded },
    {
      stage: 'ingest',
      concurrency: 4,
      ackWaitMs: 30_000,
      maxDeliver: MAX_DELIVER,
      backoffMs: BACKOFF_MS,
      timeoutMs: 120_000,
    },
  );
  await deps.consume(
    'ingest-deleted',
    { [Subjects.deleted]: createDeletedHandler(storage) },
    { stage: 'ingest', maxDeliver: MAX_DELIVER, backoffMs: BACKOFF_MS },
  );
}
