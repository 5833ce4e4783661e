import type { ChunkRendition, Rung, Segment } from '@reel/events';

/** One rung's segments across every chunk, in order. */
export interface RungSegments {
  rung: Rung;
  codecs: string;
  segments: Segment[];
}

/** Joins chunk manifests (any order) into one segment list per rung. */
export function joinChunks(chunks: { chunk: { index: number }; renditions: ChunkRendition[] }[]): RungSegments[] {
  const ordered = [...chunks].sort((a, b) => a.chunk.index - b.chunk.index);
  const byName = new Map<string, RungSegments>();
  for (const c of ordered) {
    for (const r of c.renditions) {
      const entry = byName.get(r.rung.name) ?? { rung: r.rung, codecs: r.codecs, segments: [] };
      entry.segments.push(...r.segments);
      byName.set(r.rung.name, entry);
    }
  }
  return [...byName.values()];
}

/** Peak and average bitrate measured from the segments as stored (container overhead included). */
export function measure(segments: Segment[]): { peak: number; average: number; durationSec: number } {
  let peak = 0;
  let bytes = 0;
  let durationSec = 0;
  for (const s of segments) {
    peak = Math.max(peak, (s.bytes * 8) / s.durationSec);
    bytes += s.bytes;
    durationSec += s.durationSec;
  }
  return { peak: Math.ceil(peak), average: Math.ceil((bytes * 8) / Math.max(durationSec, 0.001)), durationSec };
}

const basename = (key: string) => key.slice(key.lastIndexOf('/') + 1);

/** A VOD media playlist whose TARGETDURATION covers every EXTINF; segment URIs are relative. */
export function mediaPlaylist(segments: Segment[]): string {
  const target = Math.max(1, ...segments.map((s) => Math.ceil(s.durationSec)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  for (const s of segments) lines.push(`#EXTINF:${s.durationSec.toFixed(6)},`, basename(s.key));
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

export interface Variant {
  rung: Rung;
  codecs: string;
  bandwidth: number;
  averageBandwidth: number;
  /** URI of the media playlist relative to the master. */
  uri: string;
}

/** The master playlist, highest quality first. */
export function masterPlaylist(variants: Variant[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const v of [...variants].sort((a, b) => b.bandwidth - a.bandwidth)) {
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${v.bandwidth},AVERAGE-BANDWIDTH=${v.averageBandwidth},CODECS="${v.codecs}",RESOLUTION=${v.rung.width}x${v.rung.height},FRAME-RATE=${v.rung.fps.toFixed(3)}`,
      v.uri,
    );
  }
  lines.push('');
  return lines.join('\n');
}
