import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Segment } from '@reel/events';
import type { Storage } from '@reel/storage';
import { type PersistOptions, persist } from './persist.ts';
import { parseMediaPlaylist } from './rendition.ts';

export interface SegmentSink {
  /**
   * Stores the segments ffmpeg has finished since the last flush, in order, one flush at a time;
   * resolves once they are stored. A failure rejects this flush and every later one.
   */
  flush(): Promise<void>;
  /** The segments stored so far, in order, with their local files. */
  readonly segments: readonly (Segment & { file: string })[];
}

/**
 * The segments of one HLS rendition, stored as ffmpeg finishes them: ffmpeg rewrites its
 * playlist (`EVENT`, `temp_file`: atomically, after each finished segment), so what it lists is
 * complete. Call `flush()` on ffmpeg's progress and once when it is done: the uploads overlap the
 * encode, and a storage outage is waited out (persist) without re-encoding.
 */
export function segmentSink(opts: { dir: string; storage: Storage; keyOf: (n: number) => string; keep: PersistOptions }): SegmentSink {
  const stored: (Segment & { file: string })[] = [];
  const storeListed = async () => {
    const listed = parseMediaPlaylist(await readFile(join(opts.dir, 'index.m3u8'), 'utf8').catch(() => ''));
    for (const [n, s] of listed.entries()) {
      if (n < stored.length) continue;
      const key = opts.keyOf(n);
      const file = join(opts.dir, s.file);
      await persist(`segment ${key}`, () => opts.storage.putFile(opts.storage.mediaBucket, key, file, 'video/mp2t'), opts.keep);
      stored.push({ key, durationSec: s.durationSec, bytes: (await stat(file)).size, file });
      opts.keep.working?.();
    }
  };
  let chain: Promise<void> = Promise.resolve();
  return {
    flush() {
      chain = chain.then(storeListed);
      return chain;
    },
    segments: stored,
  };
}
