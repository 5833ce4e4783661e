import { isVideoId } from '@reel/vocabulary';
import type { Storage } from './storage.ts';

/**
 * The video an object key belongs to, if it is one of the platform's per-video keys: they all
 * name it as the second path segment (`videos/<id>/…`, `sources/<id>/…`, `work/<id>/…`; see keys.ts).
 */
export function videoIdOfKey(key: string): string | undefined {
  const [kind = '', id, ...rest] = key.split('/');
  return /^[a-z]+$/.test(kind) && rest.length > 0 && isVideoId(id) ? id : undefined;
}

/**
 * Storage whose writes stop for a deleted video. `assertAlive` throws when the video is deleted.
 * It is asked before each write and again after it: a video deleted while the write was under way
 * has its new object removed here, since the deletion's own clean-up may already have listed the
 * prefix. Either the re-check sees the deletion, or the write finished before the tombstone and
 * the clean-up (which starts after the tombstone) finds it.
 */
export function guardWrites(storage: Storage, assertAlive: (videoId: string) => void | Promise<void>): Storage {
  const write = async <R>(bucket: string, key: string, put: () => Promise<R>): Promise<R> => {
    const videoId = videoIdOfKey(key);
    if (!videoId) return put();
    await assertAlive(videoId);
    const result = await put();
    try {
      await assertAlive(videoId);
    } catch (err) {
      await storage.client.removeObject(bucket, key).catch(() => {});
      throw err;
    }
    return result;
  };
  return {
    ...storage,
    putStream: (bucket, key, ...rest) => write(bucket, key, () => storage.putStream(bucket, key, ...rest)),
    putFile: (bucket, key, ...rest) => write(bucket, key, () => storage.putFile(bucket, key, ...rest)),
    putText: (bucket, key, ...rest) => write(bucket, key, () => storage.putText(bucket, key, ...rest)),
  };
}
