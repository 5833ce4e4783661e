import { Subjects } from '@reel/events';
import { createMedia, resolveFfmpeg } from '@reel/media';
import type { ConfigOf, ServiceDeps } from '@reel/runtime';
import { createStorage, guardWrites } from '@reel/storage';
import type { configSpec } from './config.ts';
import { createAudioHandler } from './handlers/audio-requested.ts';
import { createTranscodeHandler } from './handlers/transcode-requested.ts';
import { sweepStaleWorkDirs } from './work-dir.ts';

/**
 * Retries: 1 s, 5 s, 15 s, 30 s, then every 60 s; with 10 deliveries a work item outlives an
 * outage of S3 or NATS of about 6 minutes (plus each storage call's own in-place retries).
 */
const BACKOFF_MS = [1000, 5000, 15_000, 30_000, 60_000];
const MAX_DELIVER = 10;

/**
 * The transcoder: chunk work items (the rungs and the images of a range of the video, one decode)
 * from one durable consumer shared by every replica, the audio work items from another.
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
  const deliveries = { ackWaitMs: 30_000, maxDeliver: MAX_DELIVER, backoffMs: BACKOFF_MS } as const;
  const work = { ...deliveries, stage: 'transcode', timeoutMs: config.TRANSCODE_TIMEOUT_SEC * 1000 } as const;
  const handlerDeps = { storage, publisher, media, workDir, laterNiceness: config.TRANSCODE_LATER_NICENESS };
  await deps.consume(
    'transcoder',
    { [Subjects.transcodeRequested]: createTranscodeHandler(handlerDeps) },
    { ...work, concurrency: config.TRANSCODE_CONCURRENCY },
  );
  // the audio of a video cut into chunks: cheap (no video decode), so it runs beside the chunks
  await deps.consume('transcoder-audio', { [Subjects.audioRequested]: createAudioHandler(handlerDeps) }, { ...work, concurrency: 1 });
}
