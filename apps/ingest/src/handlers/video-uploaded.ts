import { type EventData, type HandlerContext, PermanentError, type Publisher, Subjects } from '@reel/events';
import type { Media } from '@reel/media';
import type { Storage } from '@reel/storage';
import { planChunks, planLadder, SEGMENT_SEC } from '../ladder.ts';

export interface IngestDeps {
  storage: Storage;
  publisher: Publisher;
  media: Pick<Media, 'probe'>;
  limits: { maxDurationSec: number; maxResolution: number; maxUploadBytes: number };
}

/**
 * video.uploaded → probe the source where it lies (a presigned URL, no copy), refuse what can't
 * be played or breaks a limit, plan the ladder and the chunks, and publish the work items.
 * Event ids derive from the upload event's, so a redelivery republishes nothing new.
 */
export function createUploadedHandler(deps: IngestDeps) {
  return async (d: EventData<'video.uploaded'>, ctx: HandlerContext): Promise<void> => {
    const { limits } = deps;
    if (d.source.size === 0) throw new PermanentError('empty_file', 'the uploaded file is empty');
    if (d.source.size > limits.maxUploadBytes) {
      throw new PermanentError('too_large', `the file is ${d.source.size} bytes; the limit is ${limits.maxUploadBytes}`);
    }
    const url = await deps.storage.presignGet(d.source.bucket, d.source.key, 3600);
    const probe = await deps.media.probe(url, ctx.signal);
    if (probe.durationSec > limits.maxDurationSec) {
      throw new PermanentError('too_long', `the video lasts ${Math.round(probe.durationSec)} s; the limit is ${limits.maxDurationSec} s`);
    }
    if (Math.max(probe.width, probe.height) > limits.maxResolution) {
      throw new PermanentError('resolution_too_high', `the video is ${probe.width}×${probe.height}; the limit is ${limits.maxResolution} px per side`);
    }
    const ladder = planLadder(probe);
    const chunks = planChunks(probe.durationSec);
    ctx.log.info({ probe, rungs: ladder.map((r) => r.name), chunks: chunks.length }, 'source probed');
    const source = { bucket: d.source.bucket, key: d.source.key };
    const base = ctx.envelope.id;
    await deps.publisher.publish(Subjects.ingested, { videoId: d.videoId, source, probe, ladder, chunks, segmentSec: SEGMENT_SEC }, { id: `${base}.ingested` });
    for (const chunk of chunks) {
      await deps.publisher.publish(
        Subjects.transcodeRequested,
        { videoId: d.videoId, source, chunk, ladder, audio: probe.hasAudio, segmentSec: SEGMENT_SEC },
        { id: `${base}.work.${chunk.index}` },
      );
    }
  };
}
