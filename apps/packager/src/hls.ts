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

/**
 * A media playlist whose TARGETDURATION covers every EXTINF; segment URIs are relative. `VOD` is
 * final (`#EXT-X-ENDLIST`); `EVENT` lists the prefix stored so far, grows, and asks players to
 * start at the beginning rather than at the live edge.
 */
export function mediaPlaylist(segments: Segment[], type: 'VOD' | 'EVENT' = 'VOD'): string {
  const target = Math.max(1, ...segments.map((s) => Math.ceil(s.durationSec - 1e-3)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    `#EXT-X-PLAYLIST-TYPE:${type}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  if (type === 'EVENT') lines.push('#EXT-X-START:TIME-OFFSET=0');
  for (const s of segments) lines.push(`#EXTINF:${s.durationSec.toFixed(6)},`, basename(s.key));
  if (type === 'VOD') lines.push('#EXT-X-ENDLIST');
  lines.push('');
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

/** The audio rendition every rung shares (a video of several chunks). */
export interface AudioVariant {
  codecs: string;
  bandwidth: number;
  averageBandwidth: number;
  /** URI of its media playlist relative to the master. */
  uri: string;
}

export const AUDIO_GROUP = 'audio';

/**
 * The master playlist, highest quality first. With an audio rendition of its own, every variant
 * names the group, and its BANDWIDTH and CODECS count the audio too (what a player will fetch).
 */
export function masterPlaylist(variants: Variant[], audio?: AudioVariant): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (audio) {
    lines.push(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${AUDIO_GROUP}",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,URI="${audio.uri}"`);
  }
  for (const v of [...variants].sort((a, b) => b.bandwidth - a.bandwidth)) {
    const bandwidth = v.bandwidth + (audio?.bandwidth ?? 0);
    const average = v.averageBandwidth + (audio?.averageBandwidth ?? 0);
    const codecs = audio ? `${v.codecs},${audio.codecs}` : v.codecs;
    const group = audio ? `,AUDIO="${AUDIO_GROUP}"` : '';
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},AVERAGE-BANDWIDTH=${average},CODECS="${codecs}",RESOLUTION=${v.rung.width}x${v.rung.height},FRAME-RATE=${v.rung.fps.toFixed(3)}${group}`,
      v.uri,
    );
  }
  lines.push('');
  return lines.join('\n');
}
