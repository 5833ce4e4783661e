import { type EventData, type Publisher, Subjects, type VideoRecord } from '@reel/events';

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
