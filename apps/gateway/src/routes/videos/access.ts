import { type EventData, getVideoQuery, type Publisher, request, Subjects, type VideoRecord } from '@reel/events';
import type { NatsConnection } from '@nats-io/transport-node';
import { HttpError } from '../../errors.ts';

/**
 * The video as `viewer` may change it: someone else's private video does not exist for them
 * (404, from the catalog); someone else's public one is visible but not theirs (403).
 */
export async function loadOwned(nc: NatsConnection, id: string, viewer: string): Promise<VideoRecord> {
  const record = await request(nc, getVideoQuery, { id, viewer });
  if (record.ownerId !== viewer) throw new HttpError(403, 'forbidden', 'only the owner can change this video');
  return record;
}

/** Base URL the API is reached at, for links it hands out. */
export function publicBaseUrl(config: { PUBLIC_URL?: string | undefined; HOST: string; PORT: number }): string {
  return config.PUBLIC_URL ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`;
}

/**
 * The bytes of a video are in (direct or resumable upload, or the owner's retry of a failed one):
 * start the pipeline. Each attempt is its own event (`<id>.uploaded`, then `<id>.uploaded.<n>`),
 * so a retry is not dropped as a duplicate of the first upload.
 */
export function publishUploaded(publisher: Publisher, record: VideoRecord, source: EventData<'video.uploaded'>['source'], attempt = 1) {
  const { id: videoId, ownerId, title, description, visibility } = record;
  return publisher.publish(
    Subjects.uploaded,
    { videoId, ownerId, title, description, visibility, source, ...(attempt > 1 ? { attempt } : {}) },
    { id: attempt > 1 ? `${videoId}.uploaded.${attempt}` : `${videoId}.uploaded` },
  );
}
