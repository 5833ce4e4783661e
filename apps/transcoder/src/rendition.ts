/** What a finished rendition is made of: the segments ffmpeg listed, and the codecs string players are told. */

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
