import { consume, Subjects } from '@reel/events';
import { type ConfigOf, resolveFfmpeg, type ServiceDeps } from '@reel/runtime';
import { createStorage } from '@reel/storage';
import type { configSpec } from './config.ts';
import { createTranscodeHandler } from './handlers/transcode-requested.ts';
import { createThumbnailsHandler } from './handlers/video-ingested.ts';

/**
 * The transcoder: work items from one durable consumer shared by every replica, and the
 * thumbnails fan-out consumer of video.ingested.
 */
export async function buildApp(deps: ServiceDeps<ConfigOf<typeof configSpec>>): Promise<void> {
  const { config, log, nc, publisher, shutdown } = deps;
  const storage = createStorage(config);
  await storage.ensureBuckets();
  const { ffmpeg, ffprobe } = resolveFfmpeg(config);
  const workDir = config.WORK_DIR;
  const work = await consume(nc, {
    durable: 'transcoder',
    filter: Subjects.transcodeRequested,
    handlers: { [Subjects.transcodeRequested]: createTranscodeHandler({ storage, publisher, ffmpeg, ffprobe, preset: config.X264_PRESET, workDir }) },
    log,
    publisher,
    stage: 'transcode',
    concurrency: config.TRANSCODE_CONCURRENCY,
    ackWaitMs: 30_000,
    maxDeliver: 4,
    timeoutMs: config.TRANSCODE_TIMEOUT_SEC * 1000,
  });
  const thumbs = await consume(nc, {
    durable: 'thumbnails',
    filter: Subjects.ingested,
    handlers: { [Subjects.ingested]: createThumbnailsHandler({ storage, publisher, ffmpeg, workDir }) },
    log,
    publisher,
    stage: 'thumbnails',
    concurrency: 1,
    ackWaitMs: 30_000,
    maxDeliver: 4,
    timeoutMs: 30 * 60_000,
  });
  shutdown.add('consumers', () => Promise.all([work.stop(), thumbs.stop()]));
}
