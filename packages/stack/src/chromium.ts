import { existsSync } from 'node:fs';
import { aptInstall } from './apt.ts';

/** Debian's Chromium, driven by playwright-core in the browser tests (no browser download). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function ensureChromiumInstalled(log?: (line: string) => void): void {
  if (!existsSync(CHROMIUM)) aptInstall(['chromium'], log);
}
