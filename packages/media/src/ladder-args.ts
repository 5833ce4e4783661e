import type { Chunk, Rung } from '@reel/events';

/**
 * Keyframes are forced every KEYFRAME_SEC in every rung; an HLS segment can only cut at a
 * keyframe, so a work item's `segmentSec` must be a whole multiple of it (segmentsAlign) or the
 * rungs' segments stop lining up.
 */
export const KEYFRAME_SEC = 2;

/** True when segments of `segmentSec` start on forced keyframes: a positive whole multiple of KEYFRAME_SEC. */
export const segmentsAlign = (segmentSec: number): boolean => segmentSec > 0 && Number.isInteger(segmentSec / KEYFRAME_SEC);

/** `segmentSec` itself, or a RangeError when it does not align with the keyframes. */
export function alignedSegmentSec(segmentSec: number): number {
  if (!segmentsAlign(segmentSec)) throw new RangeError(`segments of ${segmentSec} s do not start on keyframes every ${KEYFRAME_SEC} s`);
  return segmentSec;
}

/**
 * ffmpeg options for one work item: one decode, split into every rung (scale, fps, yuv420p),
 * each encoded H.264 High + AAC-LC stereo and written as an HLS variant under `outDir/<i>/`.
 * Keyframes are forced at fixed times with scene-cut detection off, so every rung's segments
 * start at the same instants (`segmentSec` must align with them: RangeError otherwise).
 */
export function ladderArgs(opts: { ladder: Rung[]; chunk: Chunk; audio: boolean; segmentSec: number; outDir: string; preset?: string }) {
  const { ladder, chunk, audio, outDir } = opts;
  const segmentSec = alignedSegmentSec(opts.segmentSec);
  const n = ladder.length;
  const split = `[0:v:0]format=yuv420p,split=${n}${ladder.map((_, i) => `[s${i}]`).join('')}`;
  const branches = ladder.map((r, i) => `[s${i}]fps=${r.fps},scale=${r.width}:${r.height}:flags=bicubic,setsar=1,format=yuv420p[v${i}]`);
  const inputOptions = chunk.count > 1 ? ['-ss', String(chunk.startSec), '-t', String(chunk.durationSec)] : [];
  const out: string[] = ['-filter_complex', [split, ...branches].join(';')];
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
    '-f',
    'hls',
    '-hls_time',
    String(segmentSec),
    '-hls_playlist_type',
    'vod',
    '-hls_segment_type',
    'mpegts',
    '-hls_flags',
    'independent_segments',
    '-hls_list_size',
    '0',
    '-hls_segment_filename',
    `${outDir}/%v/seg-%05d.ts`,
    '-var_stream_map',
    ladder.map((_, i) => (audio ? `v:${i},a:${i}` : `v:${i}`)).join(' '),
  );
  return { inputOptions, outputOptions: out, output: `${outDir}/%v/index.m3u8` };
}
