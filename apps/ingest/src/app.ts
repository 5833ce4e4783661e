import { consume, Subjects } from '@reel/events';
import { type ConfigOf, resolveFfmpeg, type ServiceDeps } from '@reel/runtime';
import { createStorage } from '@reel/storage';
import { createDeletedHandler } from './handlers/video-deleted.ts';
import type { configSpec } from './config.ts';
import { createUploadedHandler } from './handlers/video-uploaded.ts';
import { probe } from './probe.ts';

/** Ingest: one durable consumer of video.uploaded. */
export async function buildApp(deps: ServiceDeps<ConfigOf<typeof configSpec>>): Promise<void> {
  const { config, log, nc, publisher, shutdown } = deps;
  const storage = createStorage(config);
  const { ffprobe } = resolveFfmpeg(config);
  const uploaded = createUploadedHandler({
    storage,
    publisher,
    probe,
    ffprobe,
    limits: { maxDurationSec: config.MAX_DURATION_SEC, maxResolution: config.MAX_RESOLUTION, maxUploadBytes: config.MAX_UPLOAD_BYTES },
  });
  const sub = await consume(nc, {
    durable: 'ingest',
    filter: Subjects.uploaded,
    handlers: { [Subjects.uploaded]: uploaded },
    log,
    publisher,
    stage: 'ingest',
    concurrency: 4,
    ackWaitMs: 30_000,
    maxDeliver: 5,
    timeoutMs: 120_000,
  });
  const deleted = await consume(nc, {
    durable: 'ingest-deleted',
    filter: Subjects.deleted,
    handlers: { [Subjects.deleted]: createDeletedHandler(storage) },
    log,
    publisher,
    stage: 'ingest',
    maxDeliver: 10,
  });
  shutdown.add('consumers', () => Promise.all([sub.stop(), deleted.stop()]));
}
