import type { Chunk, Probe, Rung } from '@reel/events';
import { alignedSegmentSec, even } from '@reel/media';

/** The rungs Reel may produce, by their short side (height for landscape, width for portrait). */
const RUNGS = [
  { short: 1080, videoBitrate: 5_000_000, audioBitrate: 128_000 },
  { short: 720, videoBitrate: 2_800_000, audioBitrate: 128_000 },
  { short: 480, videoBitrate: 1_400_000, audioBitrate: 128_000 },
  { short: 360, videoBitrate: 800_000, audioBitrate: 96_000 },
  { short: 240, videoBitrate: 400_000, audioBitrate: 64_000 },
] as const;

/** HLS segment length of the work items; checked against @reel/media's keyframe interval (every rung's segments line up). */
export const SEGMENT_SEC = alignedSegmentSec(4);
const MIN_BITRATE = 150_000;

/**
 * Plans the ladder for a probed source: never above the source's short side, even dimensions,
 * the display aspect ratio (after rotation) kept, and each rung's bitrate capped both by the
 * rung and by the source's own bitrate scaled to the rung's pixel count (a low-bitrate source is
 * not inflated). High frame rates keep their rate on the top rungs and are halved below 480.
 */
export function planLadder(p: Probe): Rung[] {
  const w = p.displayWidth;
  const h = p.displayHeight;
  const portrait = h > w;
  const short = Math.min(w, h);
  const fps = p.fps > 0 ? Math.min(p.fps, 60) : 30;
  const candidates = RUNGS.filter((r) => r.short <= short);
  // a source below the smallest rung gets one rung at its own size
  const rungs = candidates.length
    ? candidates.map((r) => ({ ...r }))
    : [{ short: even(short), videoBitrate: RUNGS[4].videoBitrate, audioBitrate: RUNGS[4].audioBitrate }];
  const sourcePixels = w * h;
  const sourceVideoBitrate = p.bitrate > 0 ? p.bitrate : Number.POSITIVE_INFINITY;
  return rungs.map((r) => {
    const own = candidates.length === 0;
    const long = even((Math.max(w, h) * r.short) / short);
    const width = own ? even(w) : portrait ? even(r.short) : long;
    const height = own ? even(h) : portrait ? long : even(r.short);
    const rungFps = r.short < 480 && fps > 30 ? fps / 2 : fps;
    const fpsFactor = rungFps > 30 ? 1.5 : 1;
    const byRung = r.videoBitrate * fpsFactor;
    const bySource = sourceVideoBitrate * Math.min(1, (width * height) / sourcePixels) * 1.1;
    const videoBitrate = Math.round(Math.max(MIN_BITRATE, Math.min(byRung, bySource)));
    return {
      name: `${Math.min(width, height)}p`,
      width,
      height,
      videoBitrate,
      maxrate: Math.round(videoBitrate * 1.5),
      bufsize: Math.round(videoBitrate * 2),
      ...(p.hasAudio ? { audioBitrate: r.audioBitrate } : {}),
      fps: Math.round(rungFps * 1000) / 1000,
    };
  });
}

/** Default length of a chunk: three segments. */
export const CHUNK_SEC = 3 * SEGMENT_SEC;

/**
 * Cuts a source into work items at whole multiples of the segment length, so every chunk starts
 * on a segment boundary (and a forced keyframe) of the whole video. The first chunk is one
 * segment long: it is the one a viewer waits for, and it finishes first. Then chunks of
 * `chunkSec`; the last absorbs a remainder shorter than a segment. A video that fits in one chunk
 * (plus such a remainder) stays one work item.
 */
export function planChunks(durationSec: number, chunkSec = CHUNK_SEC, segmentSec = SEGMENT_SEC): Chunk[] {
  if (!(chunkSec > 0 && Number.isInteger(chunkSec / segmentSec))) {
    throw new RangeError(`chunks of ${chunkSec} s are not a whole number of ${segmentSec} s segments`);
  }
  const total = Math.max(durationSec, 0.001);
  if (total < chunkSec + segmentSec) return [{ index: 0, count: 1, startSec: 0, durationSec: total }];
  const starts = [0];
  for (let at = segmentSec; total - at >= segmentSec; at += chunkSec) starts.push(at);
  return starts.map((startSec, index) => {
    const end = starts[index + 1] ?? total;
    return { index, count: starts.length, startSec, durationSec: Math.round((end - startSec) * 1e6) / 1e6 };
  });
}
