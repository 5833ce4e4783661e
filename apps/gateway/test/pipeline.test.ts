import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIPS, type ClipName, makeClip, startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import t from 'tap';
import { decodeErrors, fetchText, parseM3u8, probeStreams } from './hls.ts';

// Every kind of common input goes through the real pipeline (gateway → ingest → transcoder →
// packager → catalog) and comes out as an HLS ladder a player can use as given.
const dir = mkdtempSync(join(tmpdir(), 'reel-clips-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let token: string;

type Video = {
  id: string;
  status: string;
  error?: unknown;
  source: { width: number; height: number };
  playback: { hls: string; poster: string; thumbnails: string[]; storyboard: string };
};

// upload everything first, so the pipeline works on them while the first ones are checked
const uploads = new Map<ClipName, string>();
t.before(async () => {
  platform = await startTestPlatform(t.teardown);
  token = await platform.token('alice');
  for (const name of Object.keys(CLIPS) as ClipName[]) {
    const res = await uploadFile(platform.url, token, makeClip(dir, name, 5), { title: `clip ${name}` });
    if (res.status !== 202) throw new Error(`${name} refused: ${res.status} ${await res.text()}`);
    uploads.set(name, ((await res.json()) as { id: string }).id);
  }
});

for (const name of Object.keys(CLIPS) as ClipName[]) {
  t.test(`${name} becomes a correct adaptive HLS stream`, async (t) => {
    const clip = CLIPS[name];
    const id = uploads.get(name) ?? '';
    const video = (await waitForVideo(platform.url, token, id, ['ready', 'failed'], 180_000)) as unknown as Video;
    t.equal(video.status, 'ready', `ready (error: ${JSON.stringify(video.error)})`);
    if (video.status !== 'ready') return;
    t.same([video.source.width, video.source.height], clip.display, 'the source is probed in its display orientation');

    const origin = { origin: 'http://player.example' };
    const master = await fetchText(video.playback.hls, origin);
    t.equal(master.status, 200);
    t.ok(master.headers.get('access-control-allow-origin'), 'the master playlist can be read from another origin');
    const m = parseM3u8(master.text);
    t.match(master.text, /#EXT-X-INDEPENDENT-SEGMENTS/);
    const variants = m.playlists ?? [];
    t.ok(variants.length >= 1, `${variants.length} rungs`);
    const portrait = clip.display[1] > clip.display[0];
    const durationsByRung: number[][] = [];
    for (const v of variants) {
      const a = v.attributes as {
        BANDWIDTH: number;
        'AVERAGE-BANDWIDTH': string;
        CODECS: string;
        RESOLUTION: { width: number; height: number };
        'FRAME-RATE': number;
      };
      t.ok(
        a.BANDWIDTH && a['AVERAGE-BANDWIDTH'] && a.CODECS && a.RESOLUTION && a['FRAME-RATE'],
        'BANDWIDTH, AVERAGE-BANDWIDTH, CODECS, RESOLUTION, FRAME-RATE',
      );
      const { width, height } = a.RESOLUTION;
      t.ok(width <= clip.display[0] && height <= clip.display[1], `${width}x${height} is not above the ${clip.display.join('x')} source`);
      t.equal((width % 2) + (height % 2), 0, 'even dimensions');
      t.equal(height > width, portrait, portrait ? 'portrait stays portrait' : 'landscape stays landscape');
      t.equal(a.CODECS.includes('mp4a.40.2'), clip.audio, clip.audio ? 'AAC-LC audio' : 'video-only rung');
      const media = await fetchText(v.uri, origin);
      t.equal(media.status, 200);
      const pl = parseM3u8(media.text);
      const segs = pl.segments ?? [];
      t.ok(pl.endList, 'ENDLIST');
      t.equal(pl.playlistType, 'VOD');
      t.ok(
        segs.every((s) => s.duration <= (pl.targetDuration ?? 0)),
        'TARGETDURATION ≥ every EXTINF',
      );
      durationsByRung.push(segs.map((s) => Math.round(s.duration * 100) / 100));
      // measured peak segment bitrate vs the advertised BANDWIDTH
      let peak = 0;
      for (const s of segs) {
        const res = await fetch(s.uri, { headers: origin });
        t.ok(res.headers.get('access-control-allow-origin'), 'segments can be fetched from another origin');
        const bytes = (await res.arrayBuffer()).byteLength;
        peak = Math.max(peak, (bytes * 8) / s.duration);
      }
      t.ok(Math.abs(peak - a.BANDWIDTH) / a.BANDWIDTH <= 0.1, `peak ${Math.round(peak)} b/s within 10% of BANDWIDTH ${a.BANDWIDTH}`);
      const first = segs[0]?.uri ?? '';
      const streams = await probeStreams(first);
      const vs = streams.find((s) => s.codec_type === 'video');
      t.same(
        [vs?.codec_name, vs?.profile, vs?.pix_fmt, vs?.width, vs?.height],
        ['h264', 'High', 'yuv420p', width, height],
        'first segment is H.264 High yuv420p at the rung size',
      );
      t.equal(
        streams.some((s) => s.codec_type === 'audio'),
        clip.audio,
      );
      t.equal(await decodeErrors(first), '', 'the first segment decodes without errors');
    }
    t.ok(
      durationsByRung.every((d) => JSON.stringify(d) === JSON.stringify(durationsByRung[0])),
      `segment durations match across rungs: ${JSON.stringify(durationsByRung[0])}`,
    );

    const poster = await fetch(video.playback.poster);
    t.equal(poster.headers.get('content-type'), 'image/jpeg', 'a poster');
    t.equal(video.playback.thumbnails.length, 5, 'five thumbnails');
    const vtt = await fetchText(video.playback.storyboard);
    t.match(vtt.text, /^WEBVTT/);
    const tile = /^(http\S+)#xywh=\d+,\d+,\d+,\d+$/m.exec(vtt.text);
    t.ok(tile, 'storyboard cues point at the sprite');
    t.equal((await fetch(tile?.[1] ?? '')).status, 200, 'the sprite URL works as given');
  });
}
