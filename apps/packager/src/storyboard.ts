import type { ChunkImages, ChunkManifest } from '@reel/events';

type Sprite = NonNullable<ChunkImages['storyboard']>;

const ts = (sec: number) => {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
};

/** The sprite's file name: the VTT lies beside the sprites and names them relatively. */
const fileOf = (key: string) => key.slice(key.lastIndexOf('/') + 1);

/**
 * The storyboard WebVTT of a video whose tiles lie in several sprites (one per chunk): a cue per
 * tile, from its time to the next tile's (the last to the end of the video), pointing at its place
 * in its sprite (`storyboard-0003.jpg#xywh=x,y,w,h`), the format players read.
 */
export function storyboardVtt(sprites: Sprite[], durationSec: number): string {
  const tiles = sprites.flatMap((s) => Array.from({ length: s.count }, (_, i) => ({ s, i, k: s.first + i }))).sort((a, b) => a.k - b.k);
  const cues: string[] = ['WEBVTT', ''];
  tiles.forEach(({ s, i, k }, n) => {
    const start = k * s.intervalSec;
    if (start >= durationSec) return;
    const next = tiles[n + 1];
    const end = Math.min(durationSec, next ? next.k * next.s.intervalSec : durationSec);
    const x = (i % s.columns) * s.tileWidth;
    const y = Math.floor(i / s.columns) * s.tileHeight;
    cues.push(`${ts(start)} --> ${ts(end)}`, `${fileOf(s.key)}#xywh=${x},${y},${s.tileWidth},${s.tileHeight}`, '');
  });
  return cues.join('\n');
}

/** The images of every chunk, gathered: the poster, the thumbnails in index order, the sprites in chunk order. */
export function gatherImages(chunks: ChunkManifest[]) {
  const all = chunks.flatMap((c) => (c.images ? [c.images] : []));
  return {
    poster: all.find((i) => i.poster)?.poster,
    thumbnails: all.flatMap((i) => i.thumbnails).sort((a, b) => a.index - b.index),
    sprites: all.flatMap((i) => (i.storyboard ? [i.storyboard] : [])).sort((a, b) => a.first - b.first),
  };
}
