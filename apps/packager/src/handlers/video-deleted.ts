import type { EventData, HandlerContext } from '@reel/events';
import { keys, type Storage } from '@reel/storage';

/**
 * video.deleted → every published object of the video (playlists, segments, images) goes.
 * Writes racing the deletion are undone by guardWrites in the service that makes them.
 */
export function createDeletedHandler(storage: Storage) {
  return async (d: EventData<'video.deleted'>, ctx: HandlerContext): Promise<void> => {
    const prefix = keys.mediaPrefix(d.videoId);
    const aborted = await storage.abortStaleUploads(storage.mediaBucket, 0, (key) => key.startsWith(prefix));
    const removed = await storage.removePrefix(storage.mediaBucket, prefix);
    ctx.log.info({ removed, aborted }, 'media removed');
  };
}
