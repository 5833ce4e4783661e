// Issue 10 item 5 on the web page: a person opens a video that is still processing and it starts
// playing from its beginning as soon as the first chunks are packaged (the page follows SSE's
// `playable`), long before it is ready; then it becomes ready under the same player, and the
// page's view beacon is counted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeClip, startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import { until } from '@reel/testing';
import type { Page } from 'playwright-core';
import t from 'tap';
import { chromiumMissing, launchBrowser } from './browser.ts';

const missing = chromiumMissing('plays a processing video on the page');

/** What the watch page shows, read in the browser (this process has no DOM types). */
const look = (page: Page) =>
  page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): Record<string, unknown> | null } }).document;
    const player = doc.querySelector('.player') as { dataset: Record<string, string> } | null;
    const video = doc.querySelector('.player-video') as { currentTime: number; paused: boolean } | null;
    return {
      status: player?.dataset.status ?? '',
      currentTime: video?.currentTime ?? 0,
      paused: video?.paused ?? true,
      state: String((doc.querySelector('.watch-state') as { textContent?: string } | null)?.textContent ?? ''),
      meta: String((doc.querySelector('.watch-meta') as { textContent?: string } | null)?.textContent ?? ''),
    };
  });

t.test('the watch page plays a video while it is processing, from 0, and on once it is ready', { skip: missing ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reel-web-playable-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const platform = await startTestPlatform(t.teardown);
  const token = await platform.token('alice');
  const started = Date.now();
  const res = await uploadFile(platform.url, token, makeClip(dir, 'silent', 60), { title: 'a minute' });
  t.equal(res.status, 202);
  const { id } = (await res.json()) as { id: string };

  const browser = await launchBrowser(t.teardown, { viewport: { width: 1100, height: 800 }, timeoutMs: 30_000 });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // signed in as a returning user: the token is in the page's storage
  await page.goto(`${platform.url}/`);
  await page.evaluate(
    (tok) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('reel.token', tok),
    token,
  );
  await page.goto(`${platform.url}/#/watch/${id}`);

  // the page plays as soon as it can: press play once the controls are enabled (both steps within 3 minutes)
  const deadline = Date.now() + 180_000;
  const left = () => Math.max(0, deadline - Date.now());
  const seen = async () => `page at ${page.url()}: ${await look(page).then(JSON.stringify, (err: Error) => `unreadable (${err.message})`)}`;
  await until(
    'the play button to be enabled',
    () =>
      page.evaluate(
        () =>
          (globalThis as unknown as { document: { querySelector(s: string): { disabled: boolean } | null } }).document.querySelector('.play')?.disabled ===
          false,
      ),
    { timeoutMs: left(), everyMs: 200, explain: seen },
  );
  // muted: a page may start muted media without a gesture
  await page.evaluate(() => {
    const v = (globalThis as unknown as { document: { querySelector(s: string): { muted: boolean; play(): Promise<void> } } }).document.querySelector(
      '.player-video',
    );
    v.muted = true;
    return v.play();
  });
  let s = await until(
    'the video to play past 1 s',
    async () => {
      const now = await look(page);
      return now.currentTime > 1 && !now.paused && now;
    },
    { timeoutMs: left(), everyMs: 200, explain: seen },
  );
  const firstPlayingAfter = (Date.now() - started) / 1000;
  t.ok(s.currentTime > 1 && !s.paused, `playing (${s.currentTime.toFixed(1)} s in, ${firstPlayingAfter.toFixed(1)} s after the upload returned)`);
  t.equal(s.status, 'processing', `while the video is still processing (page says: ${s.state})`);
  t.match(s.state, /plays while the rest is processed/);

  const ready = await waitForVideo(platform.url, token, id, ['ready', 'failed'], 240_000);
  t.equal(ready.status, 'ready', `ready ${((Date.now() - started) / 1000).toFixed(1)} s after the upload returned`);
  s = await until(
    'the page to show the video ready, with its view',
    async () => {
      const now = await look(page);
      return now.status === 'ready' && /1 view/.test(now.meta) && now;
    },
    { timeoutMs: 30_000, everyMs: 200, explain: seen },
  );
  t.equal(s.status, 'ready', 'the page follows it to ready');
  t.notOk(s.paused, 'without stopping the player');
  t.match(s.meta, /\b1 view\b/, 'and shows the view its beacon counted');
  t.same(errors, [], 'no script errors');
});
