import { type EventData, type HandlerContext, PermanentError, type Publisher, Subjects } from '@reel/events';
import type { Media } from '@reel/media';
import type { Storage } from '@reel/storage';
import { planImages } from '../images.ts';
import { planChunks, planLadder, SEGMENT_SEC } from '../ladder.ts';

export interface IngestDeps {
  storage: Storage;
  publisher: Publisher;
  media: Pick<Media, 'probe'>;
  limits: { maxDurationSec: number; maxResolution: number; maxUploadBytes: number };
  /** Length of a work item (a whole number of segments); default CHUNK_SEC. */
  chunkSec?: number;
}

/**
 * video.uploaded → probe the source where it lies (a presigned URL, no copy), refuse what can't
 * be played or breaks a limit, plan the ladder, the chunks and the images each chunk makes, and
 * publish the work items.
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
    const chunks = planChunks(probe.durationSec, deps.chunkSec);
    // the poster, thumbnails and storyboard tiles come from the chunks' own decodes
    const images = planImages(probe, chunks);
    // a video of several chunks carries its audio as one rendition of its own (no AAC cut at a join)
    const audioGroup = chunks.length > 1 && probe.hasAudio;
    ctx.log.info({ probe, rungs: ladder.map((r) => r.name), chunks: chunks.length }, 'source probed');
    const source = { bucket: d.source.bucket, key: d.source.key };
    const base = ctx.envelope.id;
    await deps.publisher.publish(Subjects.ingested, { videoId: d.videoId, source, probe, ladder, chunks, segmentSec: SEGMENT_SEC }, { id: `${base}.ingested` });
    if (audioGroup) {
      const bitrate = ladder[0]?.audioBitrate ?? 128_000;
      const audio = { videoId: d.videoId, source, bitrate, segmentSec: SEGMENT_SEC, durationSec: probe.durationSec };
      await deps.publisher.publish(Subjects.audioRequested, audio, { id: `${base}.work.audio` });
    }
    // in index order: the first chunks are taken (and finish) first, so the video plays early
    for (const chunk of chunks) {
      const work = {
        videoId: d.videoId,
        source,
        chunk,
        ladder,
        segmentSec: SEGMENT_SEC,
        ...(images[chunk.index] ? { images: images[chunk.index] } : {}),
        ...(d.attempt ? { attempt: d.attempt } : {}),
      };
      await deps.publisher.publish(Subjects.transcodeRequested, audioGroup ? { ...work, audio: false, audioGroup } : { ...work, audio: probe.hasAudio }, {
        id: `${base}.work.${chunk.index}`,
      });
    }
  };
}
