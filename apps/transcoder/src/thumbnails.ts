import { even } from '@reel/media';

/** Storyboard geometry: at most MAX_TILES frames, one every `intervalSec`, in COLUMNS columns. */
const MAX_TILES = 100;
const COLUMNS = 10;
const TILE_LONG = 160;

export interface StoryboardPlan {
  intervalSec: number;
  count: number;
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
}

export function planStoryboard(durationSec: number, displayWidth: number, displayHeight: number): StoryboardPlan {
  const intervalSec = Math.max(1, Math.ceil(durationSec / MAX_TILES));
  const count = Math.max(1, Math.min(MAX_TILES, Math.ceil(durationSec / intervalSec)));
  const landscape = displayWidth >= displayHeight;
  const tileWidth = landscape ? TILE_LONG : even((TILE_LONG * displayWidth) / displayHeight);
  const tileHeight = landscape ? even((TILE_LONG * displayHeight) / displayWidth) : TILE_LONG;
  const columns = Math.min(COLUMNS, count);
  return { intervalSec, count, columns, rows: Math.ceil(count / columns), tileWidth, tileHeight };
}

const ts = (sec: number) => {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
};

/** WebVTT whose cues point at each tile of the sprite (`image#xywh=…`), the format players read. */
export function storyboardVtt(plan: StoryboardPlan, durationSec: number, image: string): string {
  const cues: string[] = ['WEBVTT', ''];
  for (let i = 0; i < plan.count; i++) {
    const start = i * plan.intervalSec;
    if (start >= durationSec) break;
    const end = Math.min(durationSec, start + plan.intervalSec);
    const x = (i % plan.columns) * plan.tileWidth;
    const y = Math.floor(i / plan.columns) * plan.tileHeight;
    cues.push(`${ts(start)} --> ${ts(end)}`, `${image}#xywh=${x},${y},${plan.tileWidth},${plan.tileHeight}`, '');
  }
  return cues.join('\n');
}

/** Times of the thumbnails: `n` frames spread over the video, away from its first and last instants. */
export function thumbnailTimes(durationSec: number, n = 5): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(((durationSec * (i + 1)) / (n + 1)) * 1000) / 1000);
}
