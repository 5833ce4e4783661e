import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeClip, startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import { until } from '@reel/testing';
import t from 'tap';
import { chromiumMissing, launchBrowser } from './browser.ts';

// A real player in a real browser: hls.js in headless Chromium, on a page served from an origin
// that is neither the gateway's nor the S3 server's, plays a video uploaded through the API at
// every quality level of its ladder. This is what CORS headers, signed playlist links and
// presigned segment URLs are for, so it is checked end to end here.

const STEP_MS = 30_000;
const SCREENSHOT = '/tmp/reel-playback.png';

type Level = { width: number; height: number; bitrate: number; codecs: string };
type Rendition = { name: string; width: number; height: number; bandwidth: number; codecs: string };
type HlsError = { fatal: boolean; type: string; details: string; reason: string; url: string };
type PlayerState = {
  seq: number;
  hlsLevel: number;
  loaded: { seq: number; level: number; sn: number | string }[];
  changed: { seq: number; level: number; sn: number | string }[];
  switched: { seq: number; level: number }[];
  errors: HlsError[];
  currentTime: number;
  paused: boolean;
  ended: boolean;
  readyState: number;
  videoWidth: number;
  videoHeight: number;
  buffered: [number, number][];
};
/** What the page below exposes as `globalThis.reel` (called from page.evaluate). */
type Reel = {
  supported(): boolean;
  canPlay(mime: string): boolean;
  start(src: string): Promise<Level[]>;
  select(level: number): number;
  state(): PlayerState;
};

// The player page. Plain JS: it runs in the browser as written.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Reel playback test</title><link rel="icon" href="data:,">
<style>body{margin:0;background:#222;color:#eee;font:14px sans-serif}video{display:block;width:640px;height:360px;background:#000}</style>
</head><body>
<video id="v" muted playsinline></video><div id="status"></div>
<script src="/hls.min.js"></script>
<script>
const video = document.getElementById('v');
const log = { seq: 0, loaded: [], changed: [], switched: [], errors: [] };
let hls;
window.reel = {
  supported: () => Hls.isSupported(),
  canPlay: (mime) => MediaSource.isTypeSupported(mime),
  start(src) {
    hls = window.hls = new Hls({ capLevelToPlayerSize: false });
    const E = Hls.Events;
    hls.on(E.ERROR, (_, d) => log.errors.push({
      fatal: d.fatal, type: d.type, details: d.details,
      reason: String(d.reason || (d.error && d.error.message) || ''),
      url: (d.frag && d.frag.url) || (d.context && d.context.url) || '',
    }));
    hls.on(E.FRAG_LOADED, (_, d) => log.loaded.push({ seq: log.seq, level: d.frag.level, sn: d.frag.sn }));
    hls.on(E.FRAG_CHANGED, (_, d) => log.changed.push({ seq: log.seq, level: d.frag.level, sn: d.frag.sn }));
    hls.on(E.LEVEL_SWITCHED, (_, d) => log.switched.push({ seq: log.seq, level: d.level }));
    return new Promise((resolve, reject) => {
      hls.once(E.MANIFEST_PARSED, () => resolve(hls.levels.map((l) => ({
        width: l.width, height: l.height, bitrate: l.bitrate,
        codecs: [l.videoCodec, l.audioCodec].filter(Boolean).join(','),
      }))));
      hls.on(E.ERROR, (_, d) => { if (d.fatal) reject(new Error('fatal hls.js error ' + d.type + '/' + d.details)); });
      hls.loadSource(src);
      hls.attachMedia(video);
    });
  },
  // plays level i from the start: a manual level switch flushes the buffer and loads that level
  select(i) {
    log.seq++;
    video.currentTime = 0;
    hls.currentLevel = i;
    video.play().catch((e) => log.errors.push({ fatal: true, type: 'play', details: String(e && e.name), reason: String(e && e.message), url: '' }));
    document.getElementById('status').textContent = 'level ' + i + ': ' + hls.levels[i].width + 'x' + hls.levels[i].height;
    return log.seq;
  },
  state() {
    const buffered = [];
    for (let k = 0; k < video.buffered.length; k++) buffered.push([video.buffered.start(k), video.buffered.end(k)]);
    return { ...log, hlsLevel: hls ? hls.currentLevel : -1, currentTime: video.currentTime, paused: video.paused, ended: video.ended,
      readyState: video.readyState, videoWidth: video.videoWidth, videoHeight: video.videoHeight, buffered };
  },
};
</script></body></html>`;

const missing = chromiumMissing('plays the stream');
if (missing) {
  t.fail(missing);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'reel-playback-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  // the player page's own origin: another loopback port than the gateway's and the S3 server's
  const hlsJs = readFileSync(createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js'));
  const site = createServer((req, res) => {
    if (req.url === '/') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    if (req.url === '/hls.min.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => site.close(() => resolve())));
  const pageUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
  const pageOrigin = new URL(pageUrl).origin;

  t.test('hls.js in Chromium plays an uploaded video from another origin, at every level', async (t) => {
    const started = Date.now();
    const platform = await startTestPlatform(t.teardown);
    const token = await platform.token('alice');
    const res = await uploadFile(platform.url, token, makeClip(dir, 'landscape', 8), { title: 'playback' });
    t.equal(res.status, 202, 'upload accepted');
    const { id } = (await res.json()) as { id: string };
    const video = (await waitForVideo(platform.url, token, id, ['ready', 'failed'], 180_000)) as unknown as {
      status: string;
      error?: unknown;
      renditions?: Rendition[];
      playback?: { hls: string };
    };
    t.equal(video.status, 'ready', `ready (error: ${JSON.stringify(video.error)})`);
    const src = video.playback?.hls;
    const renditions = video.renditions ?? [];
    if (video.status !== 'ready' || !src) return;
    t.comment(`ready after ${((Date.now() - started) / 1000).toFixed(1)} s; renditions ${renditions.map((r) => `${r.width}x${r.height}`).join(', ')}`);
    t.not(new URL(src).origin, pageOrigin, 'the playlist is on another origin than the page');

    const browser = await launchBrowser(t.teardown, { viewport: { width: 800, height: 480 }, timeoutMs: STEP_MS });
    const page = browser.pages()[0] ?? (await browser.newPage());

    // everything the browser complains about, and where the media came from
    const consoleErrors: string[] = [];
    const failedRequests: string[] = [];
    const mediaOrigins = new Set<string>();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
    page.on('requestfailed', (r) => {
      // hls.js aborts in-flight loads when the level is switched by hand: that is not a failure
      if (r.failure()?.errorText !== 'net::ERR_ABORTED') failedRequests.push(`${r.failure()?.errorText} ${r.url()}`);
    });
    page.on('response', (r) => {
      const origin = new URL(r.url()).origin;
      if (origin !== pageOrigin) mediaOrigins.add(origin);
      if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.url()}`);
    });

    const state = () => page.evaluate(() => (globalThis as unknown as { reel: Reel }).reel.state());
    const brief = (s: PlayerState) =>
      JSON.stringify({
        ...s,
        loaded: s.loaded.slice(-6),
        changed: s.changed.slice(-4),
        switched: s.switched.slice(-4),
        consoleErrors: consoleErrors.slice(-5),
        failedRequests: failedRequests.slice(-5),
      });
    /** Polls the player until `ok` holds; stops at once on a fatal hls.js error; bounded by STEP_MS. */
    const player = (what: string, ok: (s: PlayerState) => boolean): Promise<PlayerState> => {
      let last: PlayerState | undefined;
      return until(
        what,
        async () => {
          const s = await state();
          last = s;
          const fatal = s.errors.find((e) => e.fatal);
          if (fatal) throw new Error(`${what}: fatal hls.js error ${fatal.type}/${fatal.details} ${fatal.reason} ${fatal.url} (player: ${brief(s)})`);
          return ok(s) && s;
        },
        { timeoutMs: STEP_MS, everyMs: 100, explain: () => `player: ${last ? brief(last) : 'no state read yet'}` },
      );
    };

    await page.goto(pageUrl);
    t.equal(
      await page.evaluate(() => (globalThis as unknown as { location: { origin: string } }).location.origin),
      pageOrigin,
      `the page runs on its own origin ${pageOrigin}`,
    );
    t.ok(await page.evaluate(() => (globalThis as unknown as { reel: Reel }).reel.supported()), 'hls.js supports this browser (MSE)');
    const codecs = renditions[0]?.codecs ?? 'avc1.640028,mp4a.40.2';
    t.ok(
      await page.evaluate((mime) => (globalThis as unknown as { reel: Reel }).reel.canPlay(mime), `video/mp4; codecs="${codecs}"`),
      `Chromium can play ${codecs} (Debian's chromium has the H.264/AAC decoders)`,
    );

    let parseTimer: NodeJS.Timeout | undefined;
    const levels = await Promise.race([
      page.evaluate((u) => (globalThis as unknown as { reel: Reel }).reel.start(u), src),
      new Promise<never>((_, reject) => {
        parseTimer = setTimeout(() => reject(new Error(`hls.js did not parse the master playlist within ${STEP_MS / 1000} s`)), STEP_MS);
      }),
    ]).finally(() => clearTimeout(parseTimer));
    t.equal(levels.length, renditions.length, `hls.js sees ${levels.length} levels, the API reports ${renditions.length} renditions`);
    t.same(levels.map((l) => `${l.width}x${l.height}`).sort(), renditions.map((r) => `${r.width}x${r.height}`).sort(), 'the same sizes as the renditions');

    for (const [i, level] of levels.entries()) {
      const size = `${level.width}x${level.height}`;
      const switchedAt = Date.now();
      const seq = await page.evaluate((n) => (globalThis as unknown as { reel: Reel }).reel.select(n), i);
      // a fragment of this level is loaded, is the one playing, and the decoder outputs its size
      // (Chromium keeps showing the old level up to the next keyframe, ~2 s in: that is expected)
      const on = await player(`level ${i} (${size})`, (s) => {
        const loaded = s.loaded.some((f) => f.seq === seq && f.level === i);
        const playing = s.hlsLevel === i && s.changed.some((f) => f.seq === seq && f.level === i);
        return loaded && playing && s.videoWidth === level.width && s.videoHeight === level.height && !s.paused;
      });
      // …and time advances while it plays
      const off = await player(
        `level ${i} (${size}) playing`,
        (s) => s.currentTime >= on.currentTime + 1 && !s.paused && s.hlsLevel === i && s.videoWidth === level.width,
      );
      const frags = on.loaded.filter((f) => f.seq === seq && f.level === i).map((f) => f.sn);
      t.pass(
        `level ${i} ${size} @ ${level.bitrate} b/s: fragments ${frags.join(',')} loaded, played ${on.currentTime.toFixed(2)} → ${off.currentTime.toFixed(2)} s ` +
          `(${((Date.now() - switchedAt) / 1000).toFixed(1)} s after the switch)`,
      );
      if (i === levels.length - 1) {
        await page.screenshot({ path: SCREENSHOT });
        t.comment(`screenshot of the playing page: ${SCREENSHOT}`);
      }
    }

    const s = await state();
    t.same(
      s.errors.filter((e) => e.fatal),
      [],
      'no fatal hls.js error',
    );
    const nonFatal = s.errors.filter((e) => !e.fatal);
    // e.g. bufferSeekOverHole: MPEG-TS segments start at 0.167 s, hls.js skips that gap at the start
    if (nonFatal.length) t.comment(`non-fatal hls.js errors: ${nonFatal.map((e) => `${e.details} (${e.reason})`).join('; ')}`);
    t.same(consoleErrors, [], 'no console errors');
    t.same(failedRequests, [], 'no failed requests');
    t.ok(!mediaOrigins.has(pageOrigin) && mediaOrigins.size >= 2, `media came from other origins: ${[...mediaOrigins].join(', ')}`);
    t.comment(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}
