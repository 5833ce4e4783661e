import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's chromium package (`apt-get install -y chromium`); CHROMIUM_PATH overrides it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // this machine's network is closed: background connections only fail, many at a time
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/** Why the browser tests cannot run, or undefined when Chromium is there. */
export function chromiumMissing(what: string): string | undefined {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return undefined;
  } catch {
    return (
      `Chromium is not installed (no executable ${CHROMIUM}): this test ${what} in a real browser. ` +
      'Install it with `apt-get install -y chromium` (Debian), or set CHROMIUM_PATH to a Chromium/Chrome binary.'
    );
  }
}

/** Headless Chromium with a fresh profile, closed and deleted on teardown. */
export async function launchBrowser(
  teardown: (fn: () => Promise<void>) => void,
  opts: { viewport: { width: number; height: number }; timeoutMs: number },
): Promise<BrowserContext> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'reel-chromium-'));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    timeout: opts.timeoutMs,
    viewport: opts.viewport,
  });
  teardown(async () => {
    await browser.close();
    rmSync(userDataDir, { recursive: true, force: true });
  });
  return browser;
}
