import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestPlatform, type TestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import t, { type Test } from 'tap';
import { chromiumMissing, launchBrowser } from './browser.ts';
import { decodeErrors, fetchText, parseM3u8 } from './hls.ts';

// Split-and-stitch, end to end: a 60 s video is cut into six work items (4 s, then 12 s chunks)
// and an audio item; it plays while still processing (an EVENT playlist, from 0), and once ready
// every rung, joined, is indistinguishable from a one-piece encode: every frame once, evenly
// spaced across every join, segments lined up across rungs, the audio ending with the video.
// Then a 10-minute video (51 chunks) makes the same checks: its drift is the one that adds up.

// a ten-minute encode and its checks outlast the suite's 600 s per file on a loaded 2-core machine
t.setTimeout(1_200_000);

const run = promisify(execFile);
const FPS = 30;
const STEP_MS = 60_000;

type Video = {
  status: string;
  playable?: boolean;
  error?: unknown;
  playback?: { hls: string; poster?: string; thumbnails?: string[]; storyboard?: string };
  renditions?: { name: string }[];
};

const dir = mkdtempSync(join(tmpdir(), 'reel-split-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** 640×360 at 30 fps with a tone: two rungs (360p, 240p), quick to encode. */
async function clip(seconds: number): Promise<string> {
  const file = join(dir, `clip-${seconds}.mp4`);
  const src = ['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=${FPS}`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
  await run('ffmpeg', [
    '-v',
    'error',
    ...src,
    '-t',
    String(seconds),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    file,
  ]);
  return file;
}

/** The playlist at `url` and the absolute URLs of what it names. */
async function playlist(url: string) {
  const res = await fetchText(url);
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  const parsed = parseM3u8(res.text);
  return { text: res.text, parsed, segments: (parsed.segments ?? []).map((s) => ({ url: new URL(s.uri, url).href, duration: s.duration })) };
}

/** Every segment of a media playlist, downloaded and concatenated into one MPEG-TS file. */
async function joined(url: string, name: string): Promise<{ file: string; durations: number[] }> {
  const { segments } = await playlist(url);
  const parts: Buffer[] = [];
  for (const s of segments) {
    const res = await fetch(s.url);
    if (res.status !== 200) throw new Error(`${s.url}: ${res.status}`);
    parts.push(Buffer.from(await res.arrayBuffer()));
  }
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, Buffer.concat(parts));
  return { file, durations: segments.map((s) => s.duration) };
}

/** Presentation times of every decoded frame (video) or packet (audio, with its duration), in order. */
async function times(file: string, stream: 'v' | 'a'): Promise<{ pts: number; duration: number }[]> {
  const entries = stream === 'v' ? 'frame=pts_time,duration_time' : 'packet=pts_time,duration_time';
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', `${stream}:0`, '-show_entries', entries, '-of', 'csv=p=0', file], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout
    .split('\n')
    .map((l) => l.split(','))
    .filter(([pts]) => pts && pts !== 'N/A')
    .map(([pts, duration]) => ({ pts: Number(pts), duration: Number(duration) || 0 }));
}

/**
 * The stitch checks of a ready video of `seconds`: an audio group; every rung final, every frame
 * once at one-frame steps across every join, decoding cleanly, ending within a frame of the
 * audio; segments lined up across rungs.
 */
async function stitched(t: Test, video: Video, seconds: number): Promise<void> {
  const final = await playlist(video.playback?.hls ?? '');
  t.match(final.text, /#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio"/, 'one audio rendition group');
  const variants = final.parsed.playlists ?? [];
  t.equal(variants.length, 2, 'two rungs');
  const audioUri = /#EXT-X-MEDIA:TYPE=AUDIO[^\n]*URI="([^"]+)"/.exec(final.text)?.[1] ?? '';
  const audio = await joined(new URL(audioUri, video.playback?.hls).href, `audio-${seconds}`);
  const audioPackets = await times(audio.file, 'a');
  const audioEnd = (audioPackets.at(-1)?.pts ?? 0) + (audioPackets.at(-1)?.duration ?? 0);

  const lineUp: number[][] = [];
  for (const [i, v] of variants.entries()) {
    const attrs = v.attributes as { CODECS: string; AUDIO?: string; RESOLUTION: { height: number } };
    const name = `${attrs.RESOLUTION.height}p`;
    t.equal(attrs.AUDIO, 'audio', `${name}: names the audio group`);
    t.match(attrs.CODECS, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/, `${name}: video and audio codecs`);
    const url = new URL(v.uri, video.playback?.hls).href;
    const list = await playlist(url);
    t.match(list.text, /#EXT-X-PLAYLIST-TYPE:VOD[\s\S]*#EXT-X-ENDLIST/, `${name}: final`);
    const rung = await joined(url, `rung-${seconds}-${i}`);
    lineUp.push(rung.durations.map((d) => Math.round(d * 1000)));
    const frames = await times(rung.file, 'v');
    t.equal(frames.length, seconds * FPS, `${name}: every frame once (${frames.length} of ${seconds * FPS})`);
    const step = 1 / FPS;
    const seams = frames.slice(1).filter((f, k) => Math.abs(f.pts - (frames[k]?.pts ?? 0) - step) > step / 2);
    t.same(seams, [], `${name}: timestamps rise by one frame everywhere, across every join (no gap, no overlap)`);
    const videoEnd = (frames.at(-1)?.pts ?? 0) + step;
    t.ok(Math.abs(audioEnd - videoEnd) < step, `${name}: audio ends ${((audioEnd - videoEnd) * 1000).toFixed(1)} ms from the video (< one frame)`);
    t.equal(await decodeErrors(rung.file), '', `${name}: decodes cleanly`);
  }
  t.same(lineUp[1], lineUp[0], `segments line up across rungs: ${lineUp[0]?.length} segments`);
}

/** PSNR (dB) of the tile at `tile` of the sprite file against the source's frame at `atSec`, scaled alike. */
async function likeness(sprite: string, tile: { x: number; y: number; w: number; h: number }, source: string, atSec: number): Promise<number> {
  const graph = `[0:v]crop=${tile.w}:${tile.h}:${tile.x}:${tile.y},format=yuv420p[a];[1:v]scale=${tile.w}:${tile.h},format=yuv420p[b];[a][b]psnr`;
  const { stderr } = await run('ffmpeg', [
    '-v',
    'info',
    '-nostats',
    '-i',
    sprite,
    '-ss',
    String(atSec),
    '-i',
    source,
    '-lavfi',
    graph,
    '-frames:v',
    '1',
    '-f',
    'null',
    '-',
  ]);
  return Number(/average:([\d.]+|inf)/.exec(stderr)?.[1]?.replace('inf', '99') ?? 0);
}

/**
 * The images of a ready video, made by its chunk encodes: a poster and five thumbnails that load;
 * a storyboard with `tiles` cues from 0 to the end without a gap, over one sprite per chunk
 * (`sprites`), each sampled tile showing the source at its own time (closer to that frame than to
 * the frames a second either side, by PSNR), before and after chunk joins alike.
 */
async function images(t: Test, video: Video, source: string, seconds: number, want: { tiles: number; sprites: number; sample: number[] }) {
  const pb = video.playback;
  t.equal(pb?.thumbnails?.length, 5, 'five thumbnails');
  for (const url of [pb?.poster ?? '', ...(pb?.thumbnails ?? [])]) {
    const res = await fetch(url);
    t.equal(`${res.status} ${res.headers.get('content-type')}`, '200 image/jpeg', `${new URL(url).pathname.split('/').pop()} loads`);
  }
  const vtt = await fetchText(pb?.storyboard ?? '');
  const cues = [...vtt.text.matchAll(/^([\d:.]+) --> ([\d:.]+)\n(.+)#xywh=(\d+),(\d+),(\d+),(\d+)$/gm)].map((m) => {
    const sec = (ts = '') => ts.split(':').reduce((a, p) => a * 60 + Number(p), 0);
    return { start: sec(m[1]), end: sec(m[2]), url: m[3] ?? '', x: Number(m[4]), y: Number(m[5]), w: Number(m[6]), h: Number(m[7]) };
  });
  t.equal(cues.length, want.tiles, `${want.tiles} storyboard tiles`);
  const gaps = cues.filter((c, k) => Math.abs(c.start - (k === 0 ? 0 : (cues[k - 1]?.end ?? 0))) > 0.001);
  t.same(gaps, [], 'cues from 0, each where the last ended');
  t.ok(Math.abs((cues.at(-1)?.end ?? 0) - seconds) < 0.1, `the last ends with the video (${cues.at(-1)?.end} s)`);
  const sprites = [...new Set(cues.map((c) => c.url.split('?')[0]))];
  t.equal(sprites.length, want.sprites, `one sprite per chunk: ${want.sprites}`);
  const files = new Map<string, string>();
  for (const at of want.sample) {
    const cue = cues.find((c) => c.start <= at && at < c.end);
    if (!cue) {
      t.fail(`no cue at ${at} s`);
      continue;
    }
    let file = files.get(cue.url);
    if (!file) {
      const res = await fetch(cue.url);
      t.equal(res.status, 200, `${new URL(cue.url).pathname.split('/').pop()} loads`);
      file = join(dir, `sprite-${seconds}-${files.size}.jpg`);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      files.set(cue.url, file);
    }
    const here = await likeness(file, cue, source, cue.start);
    const around = await Promise.all([cue.start - 1, cue.start + 1].filter((s) => s >= 0 && s < seconds - 0.5).map((s) => likeness(file, cue, source, s)));
    t.ok(
      here > Math.max(...around) + 2,
      `the tile at ${cue.start} s shows that frame: ${here.toFixed(1)} dB, a second off ${around.map((a) => a.toFixed(1)).join(' / ')} dB`,
    );
  }
}

const missing = chromiumMissing('plays the stitched stream');
let platform: TestPlatform;
let token: string;
t.before(async () => {
  platform = await startTestPlatform(t.teardown);
  token = await platform.token('alice');
});

t.test('a minute of video: cut into chunks, playable while processing, stitched without a seam', async (t) => {
  const SECONDS = 60;
  const source = await clip(SECONDS);
  const res = await uploadFile(platform.url, token, source, { title: 'a minute' });
  t.equal(res.status, 202);
  const { id } = (await res.json()) as { id: string };
  const api = async () => (await (await fetch(`${platform.url}/v1/videos/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Video;

  // playable first: the API shows the playlist while the video is still processing
  const deadline = Date.now() + STEP_MS * 2;
  let early: Video = await api();
  while (!early.playable && !['ready', 'failed'].includes(early.status) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    early = await api();
  }
  t.equal(early.status, 'processing', `playable while still processing (status ${early.status}, error ${JSON.stringify(early.error)})`);
  t.equal(early.playable, true);
  const src = early.playback?.hls ?? '';
  const master = await playlist(src);
  const firstRung = master.parsed.playlists?.[0];
  const firstList = firstRung ? await playlist(new URL(firstRung.uri, src).href) : undefined;
  t.match(firstList?.text, /#EXT-X-PLAYLIST-TYPE:EVENT/, 'a growing EVENT playlist');
  t.match(firstList?.text, /#EXT-X-START:TIME-OFFSET=0/, 'that players start from the beginning');
  t.notMatch(firstList?.text, /#EXT-X-ENDLIST/);

  if (missing) t.fail(missing);
  const page = missing ? undefined : await player(t.teardown);
  if (page) {
    await page.start(src);
    const s = await page.until('playing from 0 while processing', (s) => s.currentTime >= 2 && s.firstTime < 1);
    const status = (await api()).status;
    t.pass(`hls.js played ${s.firstTime.toFixed(2)} → ${s.currentTime.toFixed(2)} s of the EVENT playlist (status then: ${status})`);
  }

  const video = (await waitForVideo(platform.url, token, id, ['ready', 'failed'], 240_000)) as unknown as Video;
  t.equal(video.status, 'ready', `ready (error: ${JSON.stringify(video.error)})`);
  await stitched(t, video, SECONDS);
  // chunks 0–4, 4–16, 16–28, …: tiles on both sides of the first joins, and the last one
  await images(t, video, source, SECONDS, { tiles: 60, sprites: 6, sample: [0, 3, 4, 15, 16, 59] });

  if (page) {
    await page.start(video.playback?.hls ?? '', 4);
    const end = await page.until('played to the end across every join', (s) => s.ended || s.currentTime >= SECONDS - 0.5);
    // a join the player cannot cross leaves a hole in what it buffered, or stops it right there with
    // the far side of the join already buffered (a wait with nothing buffered ahead, at a join or
    // elsewhere, is a download that came late on a loaded machine, not a seam: CI saw one at 3.6 s
    // with the 4 s segment not yet in)
    const joins = [4, 16, 28, 40, 52];
    const holes = end.buffered.slice(1).filter(([start], k) => start - (end.buffered[k]?.[1] ?? start) > 0.1);
    t.same(holes, [], `one continuous buffer across every join: ${JSON.stringify(end.buffered.map(([a, b]) => [+a.toFixed(2), +b.toFixed(2)]))}`);
    const atJoins = end.stalls.filter((w) => joins.some((j) => Math.abs(w.at - j) < 0.5 && w.at + w.ahead > j + 0.25));
    t.same(atJoins, [], `no stall at the joins ${joins.join(', ')} s with the far side buffered (played to ${end.currentTime.toFixed(1)} s)`);
    if (end.stalls.length > atJoins.length)
      t.comment(`waits for a download (nothing buffered ahead, or away from a join; a loaded machine): ${JSON.stringify(end.stalls)}`);
    t.same(
      end.errors.filter((e) => e.fatal),
      [],
      'no fatal hls.js error',
    );
  }
});

t.test('ten minutes: 51 chunks, ready with every rung, no seam and no drift at the end', async (t) => {
  const SECONDS = 600;
  const started = Date.now();
  const source = await clip(SECONDS);
  const res = await uploadFile(platform.url, token, source, { title: 'ten minutes' });
  t.equal(res.status, 202);
  const { id } = (await res.json()) as { id: string };
  const video = (await waitForVideo(platform.url, token, id, ['ready', 'failed'], 900_000)) as unknown as Video;
  t.equal(video.status, 'ready', `ready in ${((Date.now() - started) / 1000).toFixed(1)} s (error: ${JSON.stringify(video.error)})`);
  if (video.status === 'ready') await stitched(t, video, SECONDS);
  // a tile every 6 s (100 at most), two per 12 s chunk
  if (video.status === 'ready') await images(t, video, source, SECONDS, { tiles: 100, sprites: 51, sample: [0, 6, 300, 594] });
});

type State = {
  currentTime: number;
  firstTime: number;
  ended: boolean;
  stalls: { what: string; at: number; ahead: number }[];
  buffered: [number, number][];
  errors: { fatal: boolean; details: string }[];
};

/** hls.js in headless Chromium on a page of its own origin, with what it reports. */
async function player(teardown: (fn: () => Promise<void>) => void) {
  const hlsJs = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
  const page = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<video id="v" muted playsinline></video><script src="/hls.min.js"></script><script>
const video = document.getElementById('v');
let hls, log;
// how far past the playhead anything was buffered when it stopped (over a small hole too): data
// there means the player could not go on through what it had; none, that it waited for a download
const ahead = () => (video.buffered.length ? Math.max(0, video.buffered.end(video.buffered.length - 1) - video.currentTime) : 0);
window.reel = {
  start(src, rate) {
    if (hls) hls.destroy();
    log = { firstTime: -1, stalls: [], errors: [], playing: false };
    hls = new Hls();
    hls.on(Hls.Events.ERROR, (_, d) => {
      log.errors.push({ fatal: d.fatal, details: d.details });
      if (log.playing && d.details === 'bufferStalledError') log.stalls.push({ what: d.details, at: video.currentTime, ahead: ahead() });
    });
    video.onwaiting = () => { if (log.playing && !video.ended) log.stalls.push({ what: 'waiting', at: video.currentTime, ahead: ahead() }); };
    video.onplaying = () => { log.playing = true; };
    video.ontimeupdate = () => { if (log.firstTime < 0) log.firstTime = video.currentTime; };
    hls.loadSource(src);
    hls.attachMedia(video);
    video.playbackRate = rate || 1;
    video.play().catch(() => {});
  },
  state: () => {
    const buffered = [];
    for (let k = 0; k < video.buffered.length; k++) buffered.push([video.buffered.start(k), video.buffered.end(k)]);
    return { currentTime: video.currentTime, firstTime: log.firstTime, ended: video.ended, stalls: log.stalls, buffered, errors: log.errors };
  },
};
</script></body></html>`;
  const site = createServer((req, res) => {
    if (req.url === '/') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    if (req.url === '/hls.min.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  teardown(() => new Promise<void>((resolve) => site.close(() => resolve())));
  const browser = await launchBrowser(teardown, { viewport: { width: 640, height: 360 }, timeoutMs: STEP_MS });
  const tab = browser.pages()[0] ?? (await browser.newPage());
  await tab.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
  type Reel = { start(src: string, rate?: number): void; state(): State };
  return {
    start: (src: string, rate = 1) =>
      tab.evaluate(([u, r]) => (globalThis as unknown as { reel: Reel }).reel.start(u as string, r as number), [src, rate] as const),
    async until(what: string, ok: (s: State) => boolean): Promise<State> {
      const deadline = Date.now() + STEP_MS;
      for (;;) {
        const s = await tab.evaluate(() => (globalThis as unknown as { reel: Reel }).reel.state());
        const fatal = s.errors.find((e) => e.fatal);
        if (fatal) throw new Error(`${what}: fatal hls.js error ${fatal.details}`);
        if (ok(s)) return s;
        if (Date.now() > deadline) throw new Error(`${what}: not within ${STEP_MS / 1000} s (${JSON.stringify(s)})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
