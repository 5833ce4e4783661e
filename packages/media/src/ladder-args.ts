import type { Chunk, ChunkImagesPlan, Rung } from '@reel/events';
import { imageBranches, imageOutputs } from './frame-args.ts';

/**
 * Keyframes are forced every KEYFRAME_SEC in every rung; an HLS segment can only cut at a
 * keyframe, so a work item's `segmentSec` must be a whole multiple of it (segmentsAlign) or the
 * rungs' segments stop lining up.
 */
export const KEYFRAME_SEC = 2;

/**
 * Where a video cut into chunks starts on its output time line. Not 0: x264's B-frame delay
 * makes the first decode time negative, and ffmpeg moves such a stream forward (by two frames),
 * which it would do to chunk 0 only, leaving a two-frame overlap at its join. From 10 s every
 * chunk and the audio keep their timestamps exactly as encoded; players start at the first one.
 */
export const SPLIT_TS_BASE_SEC = 10;

/** True when segments of `segmentSec` start on forced keyframes: a positive whole multiple of KEYFRAME_SEC. */
export const segmentsAlign = (segmentSec: number): boolean => segmentSec > 0 && Number.isInteger(segmentSec / KEYFRAME_SEC);

/** `segmentSec` itself, or a RangeError when it does not align with the keyframes. */
export function alignedSegmentSec(segmentSec: number): number {
  if (!segmentsAlign(segmentSec)) throw new RangeError(`segments of ${segmentSec} s do not start on keyframes every ${KEYFRAME_SEC} s`);
  return segmentSec;
}

/** One work item's encode: its rungs, its range of the video, where its outputs go. */
export interface LadderWork {
  ladder: Rung[];
  chunk: Chunk;
  /** The source's audio in-band in every rung (a video made in one piece). */
  audio: boolean;
  segmentSec: number;
  /** Variants are written to `outDir/<rung index>/index.m3u8` and `seg-NNNNN.ts`; the dirs must exist. */
  outDir: string;
  /** Images from the same decode, as `outDir/images/<name>.jpg` (poster, thumb-<index>, storyboard; see imageBranches); the dir must exist. */
  images?: ChunkImagesPlan;
}

/**
 * ffmpeg options for one work item: one decode, split into every rung (scale, fps, yuv420p),
 * each encoded H.264 High + AAC-LC stereo and written as an HLS variant under `outDir/<i>/`.
 * Keyframes are forced at fixed times with scene-cut detection off, so every rung's segments
 * start at the same instants (`segmentSec` must align with them: RangeError otherwise).
 */
export function ladderArgs(opts: LadderWork & { preset?: string }) {
  const { ladder, chunk, audio, outDir } = opts;
  const segmentSec = alignedSegmentSec(opts.segmentSec);
  const n = ladder.length;
  const images = opts.images ? imageBranches(opts.images, chunk, `${outDir}/images`) : [];
  const labels = Array.from({ length: n + images.length }, (_, i) => `[s${i}]`).join('');
  const split = `[0:v:0]format=yuv420p,split=${n + images.length}${labels}`;
  const branches = ladder.map((r, i) => `[s${i}]fps=${r.fps},scale=${r.width}:${r.height}:flags=bicubic,setsar=1,format=yuv420p[v${i}]`);
  const imageFilters = images.map((b, j) => `[s${n + j}]${b.filter}[i${j}]`);
  // one chunk of several: read only its range, and keep its timestamps where they are in the whole
  // video, so the packager joins chunks without a discontinuity
  const inputOptions = chunk.count > 1 ? ['-ss', String(chunk.startSec), '-t', String(chunk.durationSec)] : [];
  // the JPEG outputs come first: the options after them (codecs, HLS) belong to the HLS output
  const out: string[] = ['-filter_complex', [split, ...branches, ...imageFilters].join(';'), ...imageOutputs(images, (j) => `i${j}`)];
  if (chunk.count > 1) out.push('-output_ts_offset', String(SPLIT_TS_BASE_SEC + chunk.startSec));
  ladder.forEach((r, i) => {
    out.push('-map', `[v${i}]`);
    if (audio) out.push('-map', '0:a:0');
    out.push(`-b:v:${i}`, String(r.videoBitrate), `-maxrate:v:${i}`, String(r.maxrate), `-bufsize:v:${i}`, String(r.bufsize));
    if (audio) out.push(`-b:a:${i}`, String(r.audioBitrate ?? 128_000));
  });
  out.push(
    '-c:v',
    'libx264',
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    '-preset',
    opts.preset ?? 'veryfast',
    '-force_key_frames',
    `expr:gte(t,n_forced*${KEYFRAME_SEC})`,
    '-sc_threshold',
    '0',
    '-x264-params',
    'scenecut=0:open_gop=0',
  );
  if (audio) out.push('-c:a', 'aac', '-ac', '2', '-ar', '48000');
  out.push(
    '-map_metadata',
    '-1',
    '-sn',
    '-dn',
    ...hlsOptions(segmentSec),
    '-hls_flags',
    'independent_segments+temp_file',
    '-hls_segment_filename',
    `${outDir}/%v/seg-%05d.ts`,
    '-var_stream_map',
    ladder.map((_, i) => (audio ? `v:${i},a:${i}` : `v:${i}`)).join(' '),
  );
  return { inputOptions, outputOptions: out, output: `${outDir}/%v/index.m3u8` };
}

/**
 * The HLS options both the ladder and the audio rendition write with: an EVENT playlist, rewritten
 * after each finished segment, so segments are stored while the rest is encoded.
 */
const hlsOptions = (segmentSec: number) => [
  '-f',
  'hls',
  '-hls_time',
  String(segmentSec),
  '-hls_playlist_type',
  'event',
  '-hls_segment_type',
  'mpegts',
  '-hls_list_size',
  '0',
];

/**
 * ffmpeg options for the audio rendition of a video cut into chunks: the source's first audio
 * stream, whole, as one AAC-LC stereo HLS rendition (`outDir/index.m3u8`, `seg-NNNNN.ts`) that
 * every rung shares. Encoded in one piece, so chunk joins never cut an AAC stream (no priming gap,
 * no drift); the video is not decoded.
 */
export function audioArgs(opts: { bitrate: number; segmentSec: number; outDir: string }) {
  const outputOptions = [
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-c:a',
    'aac',
    '-b:a',
    String(opts.bitrate),
    '-ac',
    '2',
    '-ar',
    '48000',
    // on the chunks' time line (the AAC priming samples lie just before the video's start)
    '-output_ts_offset',
    String(SPLIT_TS_BASE_SEC),
    ...hlsOptions(alignedSegmentSec(opts.segmentSec)),
    '-hls_flags',
    'temp_file',
    '-hls_segment_filename',
    `${opts.outDir}/seg-%05d.ts`,
  ];
  return { inputOptions: [], outputOptions, output: `${opts.outDir}/index.m3u8` };
}
