import type { Chunk, ChunkImagesPlan } from '@reel/events';

/** One JPEG written to the output path (image2 muxer, a single file, not a pattern). */
const JPEG = ['-f', 'image2', '-update', '1', '-frames:v', '1', '-q:v', '3'];

/** An extra branch of a chunk's filter graph: the filters after the split, and where its JPEG goes. */
export interface ImageBranch {
  /** `poster`, `thumb-<index>` or `storyboard`: also the file's name, `.jpg`. */
  name: string;
  filter: string;
  file: string;
}

/**
 * Passes the first frame at or after each of `times` (seconds from the chunk's first frame) and no
 * other: exactly one frame per time, with no decode of its own.
 */
const firstFramesAt = (times: number[]) => `setpts=PTS-STARTPTS,select='${times.map((at) => `gte(t,${at})*not(gte(prev_t,${at}))`).join('+')}'`;

const local = (chunk: Chunk, atSec: number) => Math.max(0, Math.round((atSec - chunk.startSec) * 1000) / 1000);

/**
 * The image branches of a chunk's encode (see ChunkImagesPlan): the poster, each thumbnail and the
 * storyboard sprite of the chunk's tiles, each scaled from the same decoded frames as the rungs,
 * written as JPEGs into `dir`.
 */
export function imageBranches(plan: ChunkImagesPlan, chunk: Chunk, dir: string): ImageBranch[] {
  const out: ImageBranch[] = [];
  const branch = (name: string, filter: string) => out.push({ name, filter, file: `${dir}/${name}.jpg` });
  if (plan.poster) {
    const { atSec, width, height } = plan.poster;
    branch('poster', `${firstFramesAt([local(chunk, atSec)])},scale=${width}:${height},setsar=1`);
  }
  const thumb = plan.thumbnailSize;
  for (const t of plan.thumbnails) branch(`thumb-${t.index}`, `${firstFramesAt([local(chunk, t.atSec)])},scale=${thumb.width}:${thumb.height},setsar=1`);
  if (plan.storyboard) {
    const s = plan.storyboard;
    const times = Array.from({ length: s.count }, (_, i) => local(chunk, (s.first + i) * s.intervalSec));
    const rows = Math.ceil(s.count / s.columns);
    branch('storyboard', `${firstFramesAt(times)},scale=${s.tileWidth}:${s.tileHeight},setsar=1,tile=${s.columns}x${rows}`);
  }
  return out;
}

/** The output options of the branches' JPEGs, each mapped from its filter graph label `labelOf(i)`. */
export const imageOutputs = (branches: ImageBranch[], labelOf: (i: number) => string): string[] =>
  branches.flatMap((b, i) => ['-map', `[${labelOf(i)}]`, ...JPEG, b.file]);
