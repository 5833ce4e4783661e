// What "ready" must mean for a video after a fault: what a player fetches is all there, and it is
// the whole video as ingest planned it (every rung, the shared audio rendition of a chunked video,
// every playlist as long as the source).
import type { EventData } from '@reel/events';
import { checkHls } from '@reel/stack';
import type { Video } from './harness.ts';

/** What ingest planned for a video (its `video.ingested` event). */
export type Plan = EventData<'video.ingested'>;

/** A playlist may be this much shorter or longer than the source (the last segment's rounding). */
const DURATION_SLACK_SEC = 1;

/**
 * A ready video: every segment its playlists name is there, every planned rung, and its poster,
 * thumbnails and storyboard. Resolves with what was checked (`4/4 rungs + audio, 3 chunks, 28.0 s`).
 */
export async function checkReady(v: Video, plan: Plan | undefined, r: { problems: string[] }): Promise<string> {
  const id = v.id.slice(0, 8);
  if (!v.playback?.hls) {
    r.problems.push(`${id} ready without a playlist`);
    return 'no playlist';
  }
  const hls = await checkHls(v.playback.hls);
  if (hls.missing.length) r.problems.push(`${id}: ${hls.missing.length} of ${hls.segments} segments/playlists missing (${hls.missing.slice(0, 2).join(', ')})`);
  if (hls.duplicates) r.problems.push(`${id}: ${hls.duplicates} segments listed twice`);
  let checked = 'no plan';
  if (!plan) r.problems.push(`${id} ready, but no video.ingested event for it in the VIDEO stream`);
  else checked = await checkRungs(id, v.playback.hls, plan, r);
  const images = [v.playback.poster, v.playback.storyboard, ...(v.playback.thumbnails ?? [])].filter(Boolean) as string[];
  if (!v.playback.poster || !v.playback.storyboard || !v.playback.thumbnails?.length) r.problems.push(`${id} ready without poster/thumbnails/storyboard`);
  for (const url of images) {
    if (!(await answers(url))) {
      r.problems.push(`${id}: image ${strip(url).split('/').pop()} does not answer`);
      break;
    }
  }
  return checked;
}

/**
 * Every rung of the plan in the master playlist (by its resolution); with several chunks and
 * sound, the audio rendition (whose segments checkHls does not follow: it is named in an
 * EXT-X-MEDIA tag) with every segment there; each media playlist ended and as long as the source.
 */
async function checkRungs(id: string, masterUrl: string, plan: Plan, r: { problems: string[] }): Promise<string> {
  const master = await text(masterUrl);
  if (master === undefined) return 'no master playlist'; // checkHls reported it
  const resolutions = new Set([...master.matchAll(/RESOLUTION=(\d+x\d+)/g)].map((m) => m[1]));
  const missing = plan.ladder.filter((rung) => !resolutions.has(`${rung.width}x${rung.height}`)).map((rung) => rung.name);
  if (missing.length) r.problems.push(`${id} ready without rung(s) ${missing.join(', ')} of ${plan.ladder.length}`);
  const media = master
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((uri) => ({ name: rungOf(new URL(uri, masterUrl)), url: new URL(uri, masterUrl).toString() }));
  const audioUri = /#EXT-X-MEDIA:TYPE=AUDIO[^\n]*URI="([^"]+)"/.exec(master)?.[1];
  const wantsAudio = plan.chunks.length > 1 && plan.probe.hasAudio;
  if (wantsAudio && !audioUri) r.problems.push(`${id} ready without its audio rendition (${plan.chunks.length} chunks, the source has sound)`);
  if (audioUri) media.push({ name: 'audio', url: new URL(audioUri, masterUrl).toString() });
  for (const m of media) {
    const playlist = await text(m.url);
    if (playlist === undefined) {
      // checkHls reported a rung's; it does not follow the audio one
      if (m.name === 'audio') r.problems.push(`${id}: audio playlist does not answer`);
      continue;
    }
    const segments = playlist
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const sec = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce((a, x) => a + Number(x[1]), 0);
    const what = `${id} ${m.name === 'audio' ? 'audio' : `rung ${m.name}`}`;
    if (!playlist.includes('#EXT-X-ENDLIST')) r.problems.push(`${what}: playlist not ended (no EXT-X-ENDLIST)`);
    if (Math.abs(sec - plan.probe.durationSec) > DURATION_SLACK_SEC)
      r.problems.push(`${what}: playlist covers ${sec.toFixed(1)} s of ${plan.probe.durationSec.toFixed(1)} s`);
    if (m.name === 'audio') {
      const absent = [];
      for (const s of segments) if (!(await answers(new URL(s, m.url).toString()))) absent.push(s);
      if (absent.length) r.problems.push(`${what}: ${absent.length} of ${segments.length} segments missing (${absent.slice(0, 2).join(', ')})`);
    }
  }
  return `${plan.ladder.length - missing.length}/${plan.ladder.length} rungs${audioUri ? ' + audio' : ''}, ${plan.chunks.length} chunk(s), ${plan.probe.durationSec.toFixed(1)} s`;
}

async function text(url: string): Promise<string | undefined> {
  const res = await fetch(url).catch(() => undefined);
  return res?.ok ? res.text() : undefined;
}

/** The first byte answers, as a player seeking would ask. */
async function answers(url: string): Promise<boolean> {
  const res = await fetch(url, { headers: { range: 'bytes=0-0' } }).catch(() => undefined);
  await res?.body?.cancel();
  return res?.ok ?? false;
}

const strip = (url: string) => url.split('?')[0] ?? url;

/** `…/hls/720p/index.m3u8` → `720p`. */
const rungOf = (url: URL): string => url.pathname.split('/').slice(-2)[0] ?? url.pathname;
