import { type Logger, type Publisher, Subjects } from '@reel/events';
import { and, eq, isNotNull, lt } from 'drizzle-orm';
import type { Db } from './db.ts';
import { videos } from './schema.ts';

/**
 * Uploads announced but never completed expire: each such video is deleted through the normal
 * `video.deleted` event, so every service removes what it holds (a partial object, the row).
 * The event id derives from the video, so two catalog replicas sweeping at once publish it once.
 */
export async function sweepExpiredUploads(db: Db, publisher: Publisher, log: Logger, now = new Date()): Promise<number> {
  const expired = await db
    .select({ id: videos.id, ownerId: videos.ownerId })
    .from(videos)
    .where(and(eq(videos.status, 'waiting_upload'), isNotNull(videos.ownerId), lt(videos.uploadExpiresAt, now)))
    .limit(500);
  for (const v of expired) {
    if (!v.ownerId) continue;
    await publisher.publish(Subjects.deleted, { videoId: v.id, ownerId: v.ownerId }, { id: `${v.id}.upload-expired` });
    log.info({ videoId: v.id }, 'upload expired; video deleted');
  }
  return expired.length;
}
