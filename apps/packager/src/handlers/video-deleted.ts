import type { EventData, HandlerContext } from '@reel/events';
import { keys, type Storage } from '@reel/storage';

/** video.deleted → every published object of the video (playlists, segments, images) goes. */
export function createDeletedHandler(storage: Storage) {
  return async (d: EventData<'video.deleted'>, ctx: HandlerContext): Promise<void> => {
    const removed = await storage.removePrefix(storage.mediaBucket, keys.mediaPrefix(d.videoId));
    ctx.log.info({ removed }, 'media removed');
  };
}
