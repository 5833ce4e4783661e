import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeClip, startTestPlatform, until } from '@reel/stack';
import type { Page } from 'playwright-core';
import t from 'tap';
import { chromiumMissing, launchBrowser } from './browser.ts';

// The web page served by the gateway at `/`, driven like a person would in headless Chromium:
// sign in with a token, upload a clip through the file input (progress bar to 100%), watch the
// library card turn ready without a reload, open the watch page, play the video with hls.js,
// and find every rendition in the quality selector and storyboard previews on the seek bar.

const STEP_MS = 30_000;
const PROCESSING_MS = 180_000;
const SHOT_LIBRARY = '/tmp/reel-web-library.png';
const SHOT_WATCH = '/tmp/reel-web-watch.png';
const SHOT_MOBILE = '/tmp/reel-web-library-mobile.png';
const SHOT_PROCESSING = '/tmp/reel-web-processing.png';
const SHOT_SIGNIN = '/tmp/reel-web-signin.png';
const SHOT_MOBILE_WATCH = '/tmp/reel-web-watch-mobile.png';
const TITLE = 'Web test clip';

type Rendition = { name: string; width: number; height: number };

// The little of the DOM that the in-page functions below use, declared here because the
// gateway's tsconfig has no DOM lib. Each such function starts with `globalThis as unknown as
// InPage` (types are erased, so the function Playwright sends to the page is plain JS).
type El = { dataset: Record<string, string | undefined>; textContent: string | null; hidden: boolean; offsetWidth: number; offsetHeight: number };
type Doc = {
  getElementById(id: string): El | null;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): Iterable<El>;
  documentElement: { scrollWidth: number };
  activeElement: El | null;
};
type InPage = {
  document: Doc;
  innerWidth: number;
  getComputedStyle(el: unknown): { backgroundImage: string; backgroundPosition: string };
  MutationObserver: new (cb: () => void) => { observe(target: unknown, options: object): void };
  progressSeen: number[];
};
type ProgressEl = El & { value: number; max: number };
type VideoEl = El & { currentTime: number; paused: boolean; ended: boolean; videoHeight: number; play(): Promise<void> };
type Video = { id: string; status: string; renditions?: Rendition[]; playback?: { hls: string; storyboard?: string; poster?: string } };

/** A raw GET whose path is sent exactly as written (fetch would normalise `..`). */
const rawGet = (base: string, path: string) =>
  new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const u = new URL(base);
    const req = httpRequest({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });

/** What went on in the page, for a failure message. */
let diagnose: () => Promise<string> = async () => '';

/** Waits for `fn` to find what a step of the page waits for; a timeout says where the page was. */
const step = <T>(page: Page, what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = STEP_MS): Promise<T> =>
  until(what, fn, { timeoutMs, everyMs: 100, explain: async () => `page at ${page.url()}; ${await diagnose()}` });

/** Waits for the upload box to say done; a failed upload fails at once with the page's message. */
const uploadDone = (page: Page, what: string) =>
  step(page, what, () =>
    page.evaluate(() => {
      const { document } = globalThis as unknown as InPage;
      const box = document.getElementById('upload-status') as El;
      if (box.dataset.state === 'failed') throw new Error(`upload failed: ${document.getElementById('upload-message')?.textContent}`);
      return box.dataset.state === 'done';
    }),
  );

const missing = chromiumMissing('drives the web page');
if (missing) {
  t.fail(missing);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'reel-web-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  t.test('the web page: sign in, upload, see it become ready live, play it', async (t) => {
    const started = Date.now();
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const platform = await startTestPlatform(t.teardown);
    const token = await platform.token('alice');
    const clip = makeClip(dir, 'landscape', 6);

    // ---- the static side: content types, caching, no way out of the public directory, not in OpenAPI
    const home = await fetch(`${platform.url}/`);
    t.equal(home.status, 200, 'GET / serves the page');
    t.match(home.headers.get('content-type'), /^text\/html/, 'as HTML');
    t.equal(home.headers.get('cache-control'), 'no-cache', 'revalidated on every load');
    t.match(home.headers.get('content-security-policy'), /script-src 'self'/, 'with a content security policy');
    const etag = home.headers.get('etag') ?? '';
    t.equal((await fetch(`${platform.url}/`, { headers: { 'if-none-match': etag } })).status, 304, 'a matching ETag gives 304');
    for (const lib of ['hls.min.js', 'tus.min.js']) {
      const res = await fetch(`${platform.url}/ui/vendor/${lib}`);
      t.equal(res.status, 200, `${lib} is served`);
      t.match(res.headers.get('content-type'), /^text\/javascript/, `${lib} as JavaScript`);
      t.match(res.headers.get('cache-control'), /max-age=\d+/, `${lib} is cacheable`);
      await res.arrayBuffer();
    }
    for (const path of [
      '/ui/../package.json',
      '/ui/..%2f..%2fpackage.json',
      '/ui/%2e%2e/%2e%2e/package.json',
      '/ui/js/../../src/app.ts',
      '/ui/vendor/..%2F..%2Fpackage.json',
    ]) {
      const res = await rawGet(platform.url, path);
      t.ok(res.status === 404 && !res.body.includes('"@reel/gateway"') && !res.body.includes('buildGateway'), `${path} is refused (${res.status})`);
    }
    const openapi = (await (await fetch(`${platform.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    t.notOk(
      Object.keys(openapi.paths).some((p) => p === '/' || p.startsWith('/ui')),
      'the page routes are not in the OpenAPI document',
    );

    // ---- the browser
    const browser = await launchBrowser(t.teardown, { viewport: { width: 1280, height: 900 }, timeoutMs: STEP_MS });
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(STEP_MS);

    const consoleErrors: string[] = [];
    const failedRequests: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      // the 404 the test's stand-in for a server without tus answers (below) is expected
      if (m.type() === 'error' && !(m.text().includes('404') && new URL(m.location().url || 'about:blank').pathname === '/v1/tus'))
        consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    page.on('requestfailed', (r) => {
      // hls.js aborts loads when the level is switched by hand, EventSource.close() aborts its stream
      if (r.failure()?.errorText !== 'net::ERR_ABORTED') failedRequests.push(`${r.failure()?.errorText} ${r.url()}`);
    });
    page.on('response', (r) => {
      // the test's own stand-in for a server without tus (below) answers 404 on purpose
      if (r.status() === 404 && new URL(r.url()).pathname === '/v1/tus') return;
      if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    });
    diagnose = async () => {
      const state = await page
        .evaluate(() => {
          const { document } = globalThis as unknown as InPage;
          return {
            upload: `${document.getElementById('upload-status')?.dataset.state} ${document.getElementById('upload-percent')?.textContent} ${document.getElementById('upload-message')?.textContent}`,
            library: document.getElementById('library-message')?.textContent,
            cards: [...document.querySelectorAll('#library-list li')].map((li) => `${li.dataset.status}: ${li.textContent?.replace(/\s+/g, ' ').trim()}`),
            overlay: document.querySelector('.player-overlay')?.textContent,
            state: document.querySelector('.watch-state')?.textContent,
          };
        })
        .catch((e: Error) => e.message);
      return JSON.stringify({ state, consoleErrors: consoleErrors.slice(-5), failedRequests: failedRequests.slice(-5), requests: requests.slice(-8) });
    };

    // ---- sign in
    await page.goto(`${platform.url}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Access token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#token-error:not([hidden])').waitFor();
    t.match(await page.locator('#token-error').textContent(), /not a JWT/, 'a malformed token is refused with a message');
    await page.screenshot({ path: SHOT_SIGNIN });
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your videos' }).waitFor();
    t.equal(await page.locator('#whoami').textContent(), 'alice', 'the header shows who is signed in (the JWT sub)');
    t.equal(await page.evaluate(() => localStorage.getItem('reel.token')), token, 'the token is kept in localStorage');
    await step(page, 'the empty library', async () => /No videos yet/.test((await page.locator('#library-message').textContent()) ?? ''));

    // ---- upload through the file input
    await page.evaluate(() => {
      // every value the progress bar takes
      const page = globalThis as unknown as InPage;
      const bar = page.document.getElementById('upload-progress') as ProgressEl;
      const seen: number[] = [];
      page.progressSeen = seen;
      new page.MutationObserver(() => seen.push(bar.value)).observe(bar, { attributes: true, attributeFilter: ['value'] });
    });
    await page.getByLabel('Video file').setInputFiles(clip);
    await page.getByLabel('Title').fill(TITLE);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await uploadDone(page, 'the upload to finish');
    const method = await page.locator('#upload-status').getAttribute('data-method');
    const bar = await page.evaluate(() => {
      const { document, progressSeen } = globalThis as unknown as InPage;
      const el = document.getElementById('upload-progress') as ProgressEl;
      return { value: el.value, max: el.max, text: document.getElementById('upload-percent')?.textContent, seen: progressSeen };
    });
    t.equal(bar.value, bar.max, 'the progress bar is full');
    t.equal(bar.text, '100%', 'and says 100%');
    t.ok(
      bar.seen.every((v, i) => i === 0 || v >= (bar.seen[i - 1] ?? 0)),
      `it only moved forward (${bar.seen.map((v) => Math.round(v)).join(' → ')})`,
    );
    t.ok(method === 'tus' || method === 'direct', `the page uploaded with ${method === 'tus' ? 'tus (resumable)' : 'the direct presigned PUT'}`);
    t.comment(`upload path exercised: ${method}`);
    if (method === 'tus') {
      t.ok(
        requests.some((r) => r.startsWith('POST ') && new URL(r.slice(5)).pathname === '/v1/tus'),
        'a tus creation request was sent',
      );
      t.ok(
        requests.some((r) => r.startsWith('PATCH ') && /\/v1\/tus\/[0-9a-f-]{36}$/.test(new URL(r.slice(6)).pathname)),
        'the bytes went in PATCH requests',
      );
    }
    t.comment(`uploaded after ${elapsed()}`);

    // ---- the library: the card is there at once and turns ready by itself
    const card = page.locator('#library-list li.card', { hasText: TITLE });
    await card.waitFor();
    const id = (await card.getAttribute('data-id')) ?? '';
    t.match(id, /^[0-9a-f-]{36}$/, `the new video is in the library (${id})`);
    const listLoads = () => requests.filter((r) => r.startsWith('GET ') && /\/v1\/videos\?limit=12/.test(r)).length;
    const loadsBefore = listLoads();
    const statuses: string[] = [];
    const status = await step(
      page,
      'the library card to turn ready',
      async () => {
        const s = (await card.getAttribute('data-status')) ?? '';
        if (statuses.at(-1) !== s) {
          statuses.push(s);
          if (s === 'processing') await page.screenshot({ path: SHOT_PROCESSING, fullPage: true });
        }
        return s === 'ready' || s === 'failed' ? s : undefined;
      },
      PROCESSING_MS,
    );
    t.equal(status, 'ready', `the card turned ready (statuses seen: ${statuses.join(' → ')})`);
    t.ok(statuses.includes('processing'), 'it showed processing first');
    t.equal(await card.locator('.badge').textContent(), 'Ready', 'the badge says Ready');
    t.equal(listLoads(), loadsBefore, 'without reloading the list');
    t.ok(
      requests.some((r) => r.startsWith('GET ') && r.includes(`/v1/videos/${id}/events?access_token=`)),
      'the card followed the video over Server-Sent Events',
    );
    await card.locator('.card-thumb img').waitFor();
    await step(page, 'the poster to load', () =>
      card.locator('.card-thumb img').evaluate((img) => {
        const { complete, naturalWidth } = img as unknown as { complete: boolean; naturalWidth: number };
        return complete && naturalWidth > 0;
      }),
    );
    t.pass('the card shows the poster');
    t.comment(`ready in the library after ${elapsed()}`);
    await page.screenshot({ path: SHOT_LIBRARY, fullPage: true });
    t.comment(`screenshot of the library: ${SHOT_LIBRARY}`);

    const video = (await (await fetch(`${platform.url}/v1/videos/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Video;
    const renditions = video.renditions ?? [];
    t.ok(renditions.length >= 2, `the API reports ${renditions.length} renditions (${renditions.map((r) => r.name).join(', ')})`);

    // ---- the watch page
    await card.getByRole('link', { name: TITLE }).click();
    await page.waitForURL(`**/#/watch/${id}`);
    await page.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
    t.equal(await page.title(), `${TITLE} · Reel`, 'the document title names the video');
    const quality = page.getByLabel('Quality');
    await step(page, 'the quality selector to list the levels', async () => (await quality.locator('option').count()) === renditions.length + 1);
    const options = await quality
      .locator('option')
      .evaluateAll((els) => els.map((o) => ({ value: (o as unknown as { value: string }).value, text: o.textContent ?? '' })));
    t.equal(options[0]?.value, '-1', 'the first choice is Auto');
    t.match(options[0]?.text, /^Auto/, 'labelled Auto');
    for (const r of renditions)
      t.ok(
        options.some((o) => o.text.startsWith(`${r.name} `)),
        `the quality selector lists ${r.name}`,
      );
    // presigned URLs differ by the second they were signed in: compare the object they name
    const unsigned = (url: string | null | undefined) => url?.split('?')[0] ?? null;
    const poster = await page.locator('.player-video').getAttribute('poster');
    t.equal(unsigned(poster), unsigned(video.playback?.poster), 'the video element has the poster');
    t.ok((await page.request.get(poster ?? '')).ok(), 'and the poster URL works');

    // play with the page's own button, and see time advance
    const playing = () =>
      page.locator('.player-video').evaluate((el) => {
        const v = el as unknown as VideoEl;
        return { t: v.currentTime, paused: v.paused, h: v.videoHeight, ended: v.ended };
      });
    await page.getByRole('button', { name: 'Play' }).click();
    const first = await step(page, 'the video to start playing', async () => {
      const s = await playing();
      return !s.paused && s.t > 0.3 ? s : undefined;
    });
    const later = await step(page, 'time to advance', async () => {
      const s = await playing();
      return s.t >= first.t + 1 ? s : undefined;
    });
    t.pass(`the video plays: ${first.t.toFixed(2)} → ${later.t.toFixed(2)} s at ${later.h}p`);
    t.equal(await page.getByRole('button', { name: 'Pause' }).count(), 1, 'the play button turned into Pause');

    // storyboard previews over the seek bar
    const seek = page.getByRole('slider', { name: 'Seek' });
    await step(page, 'the storyboard to load', async () => Number(await page.locator('.seek').getAttribute('data-storyboard')) > 0);
    const box = await seek.boundingBox();
    if (!box) throw new Error('the seek bar is not visible');
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
    const preview = page.locator('.seek-preview');
    await preview.waitFor({ state: 'visible' });
    const tile = await page.locator('.seek-preview-image').evaluate((node) => {
      const el = node as unknown as El;
      const s = (globalThis as unknown as InPage).getComputedStyle(el);
      return { image: s.backgroundImage, position: s.backgroundPosition, width: el.offsetWidth, height: el.offsetHeight, hidden: el.hidden };
    });
    t.notOk(tile.hidden, 'hovering the seek bar shows a storyboard tile');
    t.match(tile.image, /^url\("http/, `from the sprite (${tile.image.slice(0, 60)}…)`);
    t.ok(tile.width >= 80 && tile.height >= 40, `a tile-sized preview (${tile.width}×${tile.height}, at ${tile.position})`);
    t.match(await page.locator('.seek-preview-time').textContent(), /^\d+:\d\d$/, 'with the time under it');
    await page.screenshot({ path: SHOT_WATCH });
    t.comment(`screenshot of the watch page: ${SHOT_WATCH}`);
    await page.mouse.move(box.x + box.width / 2, box.y - 200);
    await preview.waitFor({ state: 'hidden' });

    // choose the lowest quality by hand: the picture becomes that size and keeps playing
    const lowest = [...renditions].sort((a, b) => a.height - b.height)[0] as Rendition;
    const lowestOption = options.find((o) => o.text.startsWith(`${lowest.name} `));
    await quality.selectOption(lowestOption?.value ?? '');
    await page.locator('.player-video').evaluate((el) => {
      const v = el as unknown as VideoEl;
      v.currentTime = 0;
      return v.play();
    });
    const low = await step(page, `the ${lowest.name} level to play`, async () => {
      const s = await playing();
      return s.h === lowest.height && !s.paused && s.t > 0.5 ? s : undefined;
    });
    t.pass(`after choosing ${lowest.name} the video plays at ${low.h}p`);

    // keyboard: Space on the focused video pauses it
    await page.locator('.player-video').focus();
    await page.keyboard.press('Space');
    await step(page, 'Space to pause', async () => (await playing()).paused);
    t.pass('Space pauses the video');

    // back to the library, then sign out
    await page.getByRole('link', { name: '← Library' }).click();
    await page.getByRole('heading', { name: 'Your videos' }).waitFor();
    t.equal(await card.getAttribute('data-status'), 'ready', 'the library is still there, with the card ready');
    t.equal(
      await page.evaluate(() => (globalThis as unknown as InPage).document.activeElement?.textContent),
      TITLE,
      'focus is back on the card of the video just watched',
    );

    // where the server has no tus endpoint, the page uploads directly to storage (presigned PUT)
    let tusRefused = 0;
    await page.route(
      (url) => url.pathname === '/v1/tus',
      (route) => {
        tusRefused++;
        return route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":{"code":"not_found","message":"no route POST /v1/tus"}}' });
      },
    );
    const DIRECT = 'Direct upload clip';
    await page.getByLabel('Video file').setInputFiles(makeClip(dir, 'silent', 2));
    await page.getByLabel('Title').fill(DIRECT);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await uploadDone(page, 'the direct upload to finish');
    await page.unroute((url) => url.pathname === '/v1/tus');
    t.ok(tusRefused > 0, 'with POST /v1/tus answering 404…');
    t.equal(await page.locator('#upload-status').getAttribute('data-method'), 'direct', '…the page fell back to the direct upload');
    t.equal(await page.locator('#upload-percent').textContent(), '100%', 'its progress bar reached 100% too');
    t.ok(
      requests.some((r) => r.startsWith('PUT ') && !r.includes(new URL(platform.url).host)),
      'the bytes went straight to storage in a PUT',
    );
    const directCard = page.locator('#library-list li.card', { hasText: DIRECT });
    const directStatus = await step(
      page,
      'the directly uploaded video to turn ready',
      async () => {
        const s = await directCard.getAttribute('data-status');
        return s === 'ready' || s === 'failed' ? s : undefined;
      },
      PROCESSING_MS,
    );
    t.equal(directStatus, 'ready', 'and that video became ready as well');

    // a phone-sized screen in dark mode: nothing sticks out sideways
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.setViewportSize({ width: 390, height: 844 });
    t.ok(
      await page.evaluate(() => {
        const { document, innerWidth } = globalThis as unknown as InPage;
        return document.documentElement.scrollWidth <= innerWidth;
      }),
      'the library fits a 390 px wide screen',
    );
    await page.screenshot({ path: SHOT_MOBILE, fullPage: true });
    t.comment(`screenshot on a phone-sized screen: ${SHOT_MOBILE}`);
    await card.getByRole('link', { name: TITLE }).click();
    await page.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
    await step(page, 'the player on a small screen', async () => (await quality.locator('option').count()) === renditions.length + 1);
    t.ok(
      await page.evaluate(() => {
        const { document, innerWidth } = globalThis as unknown as InPage;
        return document.documentElement.scrollWidth <= innerWidth;
      }),
      'the watch page fits a 390 px wide screen',
    );
    await page.screenshot({ path: SHOT_MOBILE_WATCH });
    await page.getByRole('link', { name: '← Library' }).click();
    await page.getByRole('heading', { name: 'Your videos' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    t.equal(await page.evaluate(() => localStorage.getItem('reel.token')), null, 'signing out forgets the token');

    t.same(consoleErrors, [], 'no console errors');
    t.same(failedRequests, [], 'no failed requests');
    t.comment(`done in ${elapsed()}`);
  });
}
