import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkImages, ChunkImagesPlan } from '@reel/events';
import { keys, type Storage } from '@reel/storage';
import { type PersistOptions, persist } from './persist.ts';

/**
 * Stores the JPEGs a chunk's encode wrote into `dir` (poster.jpg, thumb-<index>.jpg,
 * storyboard.jpg; see imageBranches) under the video's image keys, and says what was stored. An
 * image whose time found no frame was not written and is left out (the packager decides what a
 * video without a poster means).
 */
export async function storeImages(
  dir: string,
  plan: ChunkImagesPlan,
  at: { videoId: string; chunk: number },
  storage: Storage,
  keep: PersistOptions,
): Promise<ChunkImages> {
  const written = new Set(await readdir(dir).catch(() => []));
  const put = async (name: string, key: string) => {
    if (!written.has(`${name}.jpg`)) return undefined;
    await persist(`image ${name}`, () => storage.putFile(storage.mediaBucket, key, join(dir, `${name}.jpg`), 'image/jpeg'), keep);
    return key;
  };
  // every image at once
  const [poster, sprite, ...thumbs] = await Promise.all([
    plan.poster ? put('poster', keys.poster(at.videoId)) : undefined,
    plan.storyboard ? put('storyboard', keys.storyboardSprite(at.videoId, at.chunk)) : undefined,
    ...plan.thumbnails.map(async ({ index }) => ({ index, key: await put(`thumb-${index}`, keys.thumbnail(at.videoId, index)) })),
  ]);
  const thumbnails: ChunkImages['thumbnails'] = [];
  for (const t of thumbs) if (t?.key) thumbnails.push({ index: t.index, key: t.key });
  return {
    ...(poster ? { poster } : {}),
    thumbnails,
    ...(sprite && plan.storyboard ? { storyboard: { key: sprite, ...plan.storyboard } } : {}),
  };
}
