import type { Chunk, Rung } from '@reel/events';

export const KEYFRAME_SEC = 2;

/**
 * ffmpeg options for one work item: one decode, split into every rung (scale, fps, yuv420p),
 * each encoded H.264 High + AAC-LC stereo and written as an HLS variant under `outDir/<i>/`.
 * Keyframes are forced at fixed times with scene-cut detection off, so every rung's segments
 * start at the same instants.
 */
export function ladderArgs(opts: { ladder: Rung[]; chunk: Chunk; audio: boolean; segmentSec: number; outDir: string; preset?: string }) {
  const { ladder, chunk, audio, segmentSec, outDir } = opts;
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

/** Reads segment file names and durations from an HLS media playlist ffmpeg wrote. */
export function parseMediaPlaylist(text: string): { file: string; durationSec: number }[] {
  const out: { file: string; durationSec: number }[] = [];
  let pending: number | undefined;
  for (const line of text.split(/\r?\n/)) {
    const m = /^#EXTINF:([\d.]+)/.exec(line);
    if (m) pending = Number(m[1]);
    else if (line && !line.startsWith('#') && pending !== undefined) {
      out.push({ file: line.trim(), durationSec: pending });
      pending = undefined;
    }
  }
  return out;
}

/** RFC 6381 codec string for H.264 High at `level` (e.g. 31 → avc1.64001f), plus AAC-LC. */
export function codecsFor(level: number, audio: boolean): string {
  const video = `avc1.6400${Math.max(10, Math.min(level, 62)).toString(16).padStart(2, '0')}`;
  return audio ? `${video},mp4a.40.2` : video;
}
