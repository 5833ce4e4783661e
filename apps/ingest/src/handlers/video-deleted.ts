import type { EventData, HandlerContext } from '@reel/events';
import { keys, type Storage } from '@reel/storage';

/**
 * video.deleted → the source, its upload leftovers and every work file of the video go
 * (idempotent: none left is fine). Writes racing the deletion are undone by guardWrites.
 */
export function createDeletedHandler(storage: Storage) {
  return async (d: EventData<'video.deleted'>, ctx: HandlerContext): Promise<void> => {
    const prefixes = [keys.sourcePrefix(d.videoId), keys.workPrefix(d.videoId)];
    // an upload still streaming in (tus, multipart) would otherwise leave its parts behind
    const aborted = await storage.abortStaleUploads(storage.sourceBucket, 0, (key) => prefixes.some((p) => key.startsWith(p)));
    let removed = 0;
    for (const prefix of prefixes) removed += await storage.removePrefix(storage.sourceBucket, prefix);
    ctx.log.info({ removed, aborted }, 'source and work files removed');
  };
}
