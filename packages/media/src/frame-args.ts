import { even } from './even.ts';

/** One JPEG written to the output path (image2 muxer, a single file, not a pattern). */
const JPEG = ['-f', 'image2', '-update', '1', '-frames:v', '1', '-q:v', '3'];

/** One frame at `atSec`, scaled to `width` wide (even) with the display aspect ratio of `display`. */
export function frameArgs(opts: { atSec: number; width: number; display: { width: number; height: number } }) {
  const width = even(opts.width);
  const height = even((opts.width * opts.display.height) / opts.display.width);
  return { inputOptions: ['-ss', String(opts.atSec)], outputOptions: ['-vf', `scale=${width}:${height}`, ...JPEG] };
}

/** A storyboard sprite: one frame every `intervalSec`, scaled to a tile, laid out `columns`×`rows`. */
export function storyboardArgs(plan: { intervalSec: number; tileWidth: number; tileHeight: number; columns: number; rows: number }) {
  return {
    inputOptions: [],
    outputOptions: ['-vf', `fps=1/${plan.intervalSec},scale=${plan.tileWidth}:${plan.tileHeight},tile=${plan.columns}x${plan.rows}`, ...JPEG],
  };
}
