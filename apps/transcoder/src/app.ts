import { Subjects } from '@reel/events';
import { createMedia, resolveFfmpeg } from '@reel/media';
import type { ConfigOf, ServiceDeps } from '@reel/runtime';
import { createStorage, guardWrites } from '@reel/storage';
import type { configSpec } from './config.ts';
import { createTranscodeHandler } from './handlers/transcode-requested.ts';
import { createThumbnailsHandler } from './handlers/video-ingested.ts';
import { sweepStaleWorkDirs } from './work-dir.ts';

/**
 * Retries: 1 s, 5 s, 15 s, 30 s, then every 60 s; with 10 deliveries a work item outlives an
 * outage of S3 or NATS of about 6 minutes (plus each storage call's own in-place retries).
 */
const BACKOFF_MS = [1000, 5000, 15_000, 30_000, 60_000];
const MAX_DELIVER = 10;

/**
 * The transcoder: work items from one durable consumer shared by every replica, and the
 * thumbnails fan-out consumer of video.ingested.
 */
export async function buildApp(deps: ServiceDeps<ConfigOf<typeof configSpec>>): Promise<void> {
  const { config, log, publisher, tombstones } = deps;
  // nothing is written for a deleted video, even by a write already under way
  const storage = guardWrites(createStorage(config), tombstones.assertAlive);
  await storage.ensureBuckets();
  const media = createMedia({ ...resolveFfmpeg(config), preset: config.X264_PRESET });
  const workDir = config.WORK_DIR;
  // temp files of a worker killed mid-job (kill -9, OOM) would stay forever otherwise
  await sweepStaleWorkDirs(workDir, log);
  await deps.consume(
    'transcoder',
    { [Subjects.transcodeRequested]: createTranscodeHandler({ storage, publisher, media, workDir }) },
    {
      stage: 'transcode',
      concurrency: config.TRANSCODE_CONCURRENCY,
      ackWaitMs: 30_000,
      maxDeliver: MAX_DELIVER,
      backoffMs: BACKOFF_MS,
      timeoutMs: config.TRANSCODE_TIMEOUT_SEC * 1000,
    },
  );
  await deps.consume(
    'thumbnails',
    { [Subjects.ingested]: createThumbnailsHandler({ storage, publisher, media, workDir }) },
    {
      stage: 'thumbnails',
      concurrency: 1,
      ackWaitMs: 30_000,
      maxDeliver: MAX_DELIVER,
      backoffMs: BACKOFF_MS,
      timeoutMs: 30 * 60_000,
    },
  );
}
