// Issue 12 items 3, 6 and 7 as a user meets them, on the whole test platform:
//  - public delivery: with MEDIA_PUBLIC_URL pointing at a CDN (here a small proxy that sets the cache rules, with
//    its own read access to the media bucket, as CloudFront with origin access control is), a public
//    video plays from stable unsigned URLs; a private one still needs its signatures; made private,
//    the next answer is signed again;
//  - embeds: a page on another origin frames /embed/<id> (the HTML that /oembed gives) and the
//    public video plays in Chromium, sending the view beacon; a private one is refused;
//  - a visitor sees the public video on / and watches it; the page offers share link and embed code.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeClip, startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import { createStorage } from '@reel/storage';
import { until } from '@reel/testing';
import t from 'tap';
import type { Frame } from 'playwright-core';
import { chromiumMissing, launchBrowser } from './browser.ts';
import { fetchText, parseM3u8 } from './hls.ts';

/** A property of the first element matching `selector` in a frame (null when there is none), read in the browser. */
const read = (frame: Frame, selector: string, prop: string) =>
  frame.evaluate(
    ([sel, key]) => {
      // runs in the browser (this process has no DOM types)
      const el = (globalThis as unknown as { document: { querySelector(s: string): Record<string, unknown> | null } }).document.querySelector(sel as string);
      return el ? el[key as string] : null;
    },
    [selector, prop],
  );
/** Waits until `read(frame, selector, prop)` passes `test` (30 s at most). */
async function waitInFrame(frame: Frame, selector: string, prop: string, test: (v: unknown) => boolean, what: string) {
  let v: unknown;
  // boxed: the value waited for may itself be false (a control no longer disabled)
  const found = await until(
    what,
    async () => {
      v = await read(frame, selector, prop);
      return test(v) && { v };
    },
    { timeoutMs: 30_000, everyMs: 100, explain: () => `${selector}.${prop} is ${JSON.stringify(v)} in ${frame.url()}` },
  );
  return found.v;
}

type Video = {
  id: string;
  status: string;
  visibility: string;
  views: number;
  playback?: { hls: string; poster?: string; storyboard?: string; expiresAt?: string };
};

const dir = mkdtempSync(join(tmpdir(), 'reel-embed-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

// the CDN: GET /<key> is the media object, read with the CDN's own access, cached by path rules
const cdnRequests: string[] = [];
let origin: { get(key: string): Promise<Response> } | undefined;
const cdn = createServer((req, res) => {
  // the CDN serves the bucket under /media/, and only its videos/ objects (never a listing)
  const key = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '').replace(/^\/media\//, '');
  cdnRequests.push(req.url ?? '');
  if (!origin || !key.startsWith('videos/')) return void res.writeHead(404).end();
  origin
    .get(key)
    .then(async (r) => {
      const cache = key.endsWith('.m3u8') ? 'public, max-age=2' : 'public, max-age=31536000, immutable';
      res.writeHead(r.status, {
        'content-type': r.headers.get('content-type') ?? 'application/octet-stream',
        'cache-control': r.ok ? cache : 'no-store',
        'access-control-allow-origin': '*',
      });
      res.end(Buffer.from(await r.arrayBuffer()));
    })
    .catch(() => res.writeHead(502).end());
});
await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
t.teardown(() => new Promise<void>((resolve) => cdn.close(() => resolve())));
const CDN = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}/media`;

const platform = await startTestPlatform(t.teardown, { env: { MEDIA_PUBLIC_URL: CDN } });
const storage = createStorage({ S3_SOURCE_BUCKET: 'reel-sources', S3_MEDIA_BUCKET: 'reel-media', S3_REGION: 'us-east-1', ...platform.env } as never);
origin = { get: async (key) => fetch(await storage.presignGet(storage.mediaBucket, key, 60)) };

const token = await platform.token('alice');
const auth = { authorization: `Bearer ${token}` };
const clip = makeClip(dir, 'landscape', 4);
const upload = async (visibility: string) => {
  const res = await uploadFile(platform.url, token, clip, { title: `${visibility} clip`, visibility });
  if (res.status !== 202) throw new Error(`upload: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
};
const [pubId, privId] = await Promise.all([upload('public'), upload('private')]);
const [pub, priv] = (await Promise.all([pubId, privId].map((id) => waitForVideo(platform.url, token, id, ['ready', 'failed'], 240_000)))) as unknown as Video[];
const get = async (id: string, headers: Record<string, string> = auth) => (await (await fetch(`${platform.url}/v1/videos/${id}`, { headers })).json()) as Video;

t.test('public delivery: stable unsigned URLs under MEDIA_PUBLIC_URL for a public video, signed for a private one', async (t) => {
  t.equal(pub?.status, 'ready');
  t.equal(priv?.status, 'ready');
  const links = (await get(pubId, {})).playback;
  t.equal(links?.hls, `${CDN}/videos/${pubId}/hls/master.m3u8`, 'the master under the CDN, no signature');
  t.notOk(links?.expiresAt, 'nothing expires');
  t.match(links?.poster, new RegExp(`^${CDN}/videos/${pubId}/images/poster\\.jpg$`));
  t.same((await get(pubId)).playback, links, 'the same URLs for the owner and a visitor: one cache entry for everyone');

  // the player's path through the CDN: master, a media playlist, a segment; nothing signed
  const master = await fetchText(links?.hls as string);
  t.equal(master.status, 200);
  const variant = parseM3u8(master.text).playlists?.[0]?.uri as string;
  const media = await fetchText(new URL(variant, links?.hls).href);
  t.equal(media.status, 200, `media playlist ${variant}`);
  t.equal(media.headers.get('cache-control'), 'public, max-age=2', 'a playlist is cached briefly');
  const segment = await fetch(new URL(parseM3u8(media.text).segments?.[0]?.uri as string, new URL(variant, links?.hls)).href);
  t.equal(segment.status, 200, 'a segment');
  t.equal(segment.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  t.ok((await segment.arrayBuffer()).byteLength > 1000);
  t.notOk(
    cdnRequests.some((u) => /X-Amz-|token=/.test(u)),
    'no request to the CDN carried a signature',
  );

  // a private video: signed, and its signatures are needed
  const p = (await get(privId)).playback;
  t.match(p?.hls, new RegExp(`^${platform.url}/v1/videos/${privId}/hls/master\\.m3u8\\?token=`), 'a signed playlist link');
  t.match(p?.poster, /X-Amz-Signature=/, 'a presigned poster');
  t.equal((await fetch(String(p?.hls ?? '').replace(/\?token=.*$/, ''))).status, 403, 'the playlist without its token: 403');
  // (AWS and MinIO answer 403 AccessDenied; the local S3 server 400)
  const unsigned = (await fetch(String(p?.poster ?? '').replace(/\?.*$/, ''))).status;
  t.ok(unsigned === 403 || unsigned === 400, `the poster without its signature is refused by storage (${unsigned})`);

  // made private: the next playback is signed (within a minute)
  const patch = await fetch(`${platform.url}/v1/videos/${pubId}`, {
    method: 'PATCH',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ visibility: 'private' }),
  });
  t.equal(patch.status, 200);
  let last: Video | undefined;
  const after = await until(
    'the owner’s playback links to leave the CDN once the video is private',
    async () => {
      last = await get(pubId);
      return !last.playback?.hls.startsWith(CDN) && last;
    },
    { timeoutMs: 60_000, everyMs: 200, explain: () => `playback.hls is still ${last?.playback?.hls}` },
  );
  t.match(after.playback?.hls, /\?token=\d+\.o\./, 'made private: signed links for its owner');
  t.equal((await fetch(`${platform.url}/v1/videos/${pubId}`)).status, 404, 'and nothing for a visitor');
  const back = await fetch(`${platform.url}/v1/videos/${pubId}`, {
    method: 'PATCH',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ visibility: 'public' }),
  });
  t.equal(back.status, 200, 'public again for the embed test');
});

const missing = chromiumMissing('plays an embedded video');
t.test('an iframe of /embed/:id on another origin plays a public video and refuses a private one', { skip: missing ?? false }, async (t) => {
  // the embed HTML as a site gets it from oEmbed
  // the video was made public again at the end of the test before: the gateway learns it from the catalog
  let oembedStatus = 0;
  const oembed = await until(
    'oEmbed to answer for the video made public again',
    async () => {
      const res = await fetch(`${platform.url}/oembed?url=${encodeURIComponent(`${platform.url}/#/watch/${pubId}`)}&format=json`);
      oembedStatus = res.status;
      return res.status === 200 && res;
    },
    { timeoutMs: 60_000, everyMs: 200, explain: () => `last answer ${oembedStatus}` },
  );
  t.equal(oembed.status, 200, 'oEmbed answers for the public video');
  const { html } = (await oembed.json()) as { html: string };
  t.equal((await fetch(`${platform.url}/oembed?url=${encodeURIComponent(`${platform.url}/#/watch/${privId}`)}`)).status, 404, 'and 404 for the private one');
  const privateFrame = html.replace(pubId, privId).replace(/title="[^"]*"/, 'title="private"');
  const site = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html><head><meta charset="utf-8"><title>A blog</title></head>
<body><h1>A blog post with two videos</h1>${html}${privateFrame}</body></html>`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => site.close(() => resolve())));
  const siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
  t.not(new URL(siteUrl).origin, new URL(platform.url).origin, 'the blog is on another origin');

  const browser = await launchBrowser(t.teardown, { viewport: { width: 1400, height: 900 }, timeoutMs: 30_000 });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(siteUrl);
  const frameOf = (id: string) =>
    until(`the iframe of /embed/${id}`, () => page.frames().find((fr) => fr.url().endsWith(`/embed/${id}`)), {
      timeoutMs: 30_000,
      everyMs: 100,
      explain: () =>
        `frames: ${page
          .frames()
          .map((fr) => fr.url())
          .join(', ')}`,
    });
  const pubFrame = await frameOf(pubId);
  await pubFrame.waitForSelector('.player-video', { timeout: 30_000 });
  // play (muted: a page may autoplay muted media) once the player has the stream
  await waitInFrame(pubFrame, '.quality-select', 'disabled', (v) => v === false, 'the player has the stream');
  await pubFrame.evaluate(() => {
    const v = (globalThis as unknown as { document: { querySelector(s: string): { muted: boolean; play(): Promise<void> } } }).document.querySelector(
      '.player-video',
    );
    v.muted = true;
    return v.play();
  });
  await waitInFrame(pubFrame, '.player-video', 'currentTime', (v) => Number(v) > 1, 'playing');
  t.pass('the public video plays in the iframe on another origin');
  t.equal(await read(pubFrame, '.share', 'hidden'), true, 'the embed is the player alone');
  t.ok(Number(await read(pubFrame, '.quality-select', 'length')) > 1, 'with a quality choice');
  t.match(String(await read(pubFrame, '.player-video', 'poster')), new RegExp(`^${CDN}/videos/${pubId}/images/poster\\.jpg$`), 'its poster, from the CDN');
  const tiles = await waitInFrame(pubFrame, '.seek', 'dataset', (v) => Number((v as { storyboard?: string } | null)?.storyboard) > 0, 'storyboard tiles');
  t.ok(Number((tiles as { storyboard: string }).storyboard) > 0, 'storyboard scrubbing: the VTT and its sprite through the CDN (a relative sprite URL)');

  const privFrame = await frameOf(privId);
  await privFrame.waitForSelector('.embed-message', { timeout: 30_000 });
  t.match(String(await read(privFrame, 'body', 'textContent')), /private or does not exist/, 'the private video is refused');
  t.equal(await read(privFrame, 'video', 'tagName'), null, 'no player for it');
  t.same(errors, [], 'no script errors');

  // the embedded player sent its view beacon
  let views = 0;
  await until(
    'the embedded player’s view to be counted',
    async () => {
      views = (await get(pubId)).views;
      return views >= 1;
    },
    { timeoutMs: 30_000, everyMs: 200, explain: () => `views: ${views}` },
  );
  t.equal(views, 1, 'one view counted, from the embedded player');
});

t.test('a visitor sees the public video on / and watches it; its owner gets the share link and embed code', { skip: missing ?? false }, async (t) => {
  const browser = await launchBrowser(t.teardown, { viewport: { width: 1200, height: 900 }, timeoutMs: 30_000 });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${platform.url}/`);
  const card = page.locator(`#public-list li[data-id="${pubId}"] a`);
  await card.waitFor({ timeout: 30_000 });
  t.equal(await page.locator(`#public-list li[data-id="${privId}"]`).count(), 0, 'the private video is not listed');
  t.ok(await page.locator('#signin-form').isVisible(), 'beside the sign-in form');
  await card.click();
  await page.waitForURL(`**/#/watch/${pubId}`);
  const main = page.mainFrame();
  await waitInFrame(main, '.quality-select', 'disabled', (v) => v === false, 'the visitor’s player has the stream');
  t.pass('a visitor without a token opens the public video’s page and its player loads');
  t.equal(await read(main, '.share', 'hidden'), false, 'a public video offers sharing');
  t.equal(await read(main, '.share-link', 'value'), `${platform.url}/#/watch/${pubId}`, 'the share link');
  t.match(String(await read(main, '.share-embed', 'value')), `<iframe src="${platform.url}/embed/${pubId}"`, 'the embed code');

  // the owner's private video: no sharing offered
  await page.evaluate(
    (tok) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('reel.token', tok),
    token,
  );
  await page.goto(`${platform.url}/#/watch/${privId}`);
  await waitInFrame(main, '.watch-title', 'textContent', (v) => v === 'private clip', 'the owner’s private video');
  t.equal(await read(main, '.share', 'hidden'), true, 'a private video offers no share link');
  t.same(errors, [], 'no script errors');
});
