import type { Chunk, ChunkImagesPlan, Probe } from '@reel/events';
import { even } from '@reel/media';

/** The images of every video: their sizes (px, the long side for tiles) and counts. */
const IMAGES = {
  posterWidth: 1280,
  thumbnailWidth: 320,
  thumbnails: 5,
  /** Storyboard: at most `maxTiles` tiles, one every whole `intervalSec`, `columns` to a sprite row. */
  maxTiles: 100,
  tileLong: 160,
  columns: 10,
  /**
   * An image's time stays this far before the end of its chunk (and of the video): each image is
   * the first frame at or after its time, and the last frame of a chunk lies up to one frame before its end.
   */
  beforeEndSec: 0.5,
} as const;

/** `width` px wide (at most the video's own width), the height after the display aspect ratio; both even. */
function sized(width: number, p: Pick<Probe, 'displayWidth' | 'displayHeight'>) {
  const w = even(Math.min(width, p.displayWidth));
  return { width: w, height: even((w * p.displayHeight) / p.displayWidth) };
}

/** Times of the thumbnails: `n` frames spread over the video, away from its first and last instants. */
export function thumbnailTimes(durationSec: number, n: number = IMAGES.thumbnails): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(((durationSec * (i + 1)) / (n + 1)) * 1000) / 1000);
}

/** The storyboard: a tile every whole `intervalSec` from 0 while before the video's last frame, at most `maxTiles`. */
export function planStoryboard(p: Pick<Probe, 'durationSec' | 'displayWidth' | 'displayHeight'>) {
  const intervalSec = Math.max(1, Math.ceil(p.durationSec / IMAGES.maxTiles));
  const count = Math.max(1, Math.min(IMAGES.maxTiles, Math.floor(Math.max(0, p.durationSec - IMAGES.beforeEndSec) / intervalSec) + 1));
  const landscape = p.displayWidth >= p.displayHeight;
  const tileWidth = landscape ? IMAGES.tileLong : even((IMAGES.tileLong * p.displayWidth) / p.displayHeight);
  const tileHeight = landscape ? even((IMAGES.tileLong * p.displayHeight) / p.displayWidth) : IMAGES.tileLong;
  return { intervalSec, count, tileWidth, tileHeight };
}

/**
 * Which images each chunk makes beside its rungs, from the same decode (no second pass over the
 * source): the poster (at 5 s, or a third in for a shorter video), five thumbnails spread over the
 * video, and the storyboard tiles, each in the chunk its time falls in; one storyboard sprite per
 * chunk. A time within `beforeEndSec` of a chunk's end moves back to that bound.
 */
export function planImages(p: Pick<Probe, 'durationSec' | 'displayWidth' | 'displayHeight'>, chunks: Chunk[]): ChunkImagesPlan[] {
  const last = chunks.length - 1;
  const inChunk = (c: Chunk, at: number) => at >= c.startSec && (c.index === last || at < c.startSec + c.durationSec);
  const clamp = (c: Chunk, at: number) => Math.max(c.startSec, Math.min(at, c.startSec + c.durationSec - IMAGES.beforeEndSec));
  const posterAt = Math.min(p.durationSec / 3, 5);
  const thumbs = thumbnailTimes(p.durationSec);
  const board = planStoryboard(p);
  return chunks.map((c) => {
    const tiles = Array.from({ length: board.count }, (_, k) => k).filter((k) => inChunk(c, k * board.intervalSec));
    const first = tiles[0];
    return {
      ...(inChunk(c, posterAt) ? { poster: { atSec: clamp(c, posterAt), ...sized(IMAGES.posterWidth, p) } } : {}),
      thumbnails: thumbs.flatMap((at, index) => (inChunk(c, at) ? [{ index, atSec: clamp(c, at) }] : [])),
      thumbnailSize: sized(IMAGES.thumbnailWidth, p),
      ...(first === undefined
        ? {}
        : {
            storyboard: {
              first,
              count: tiles.length,
              columns: Math.min(IMAGES.columns, tiles.length),
              intervalSec: board.intervalSec,
              tileWidth: board.tileWidth,
              tileHeight: board.tileHeight,
            },
          }),
    };
  });
}
