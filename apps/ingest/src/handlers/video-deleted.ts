import type { EventData, HandlerContext } from '@reel/events';
import { keys, type Storage } from '@reel/storage';

/** video.deleted → the source and every work file of the video go (idempotent: none left is fine). */
export function createDeletedHandler(storage: Storage) {
  return async (d: EventData<'video.deleted'>, ctx: HandlerContext): Promise<void> => {
    let removed = 0;
    for (const prefix of [keys.sourcePrefix(d.videoId), keys.workPrefix(d.videoId)]) removed += await storage.removePrefix(storage.sourceBucket, prefix);
    ctx.log.info({ removed }, 'source and work files removed');
  };
}
