import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

let wrapperDir: string | undefined;
let pdeathsig: boolean | undefined;
const wrappers = new Map<string, string>();

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * A command for `bin` that dies with this process, even on kill -9: on Linux a two-line script
 * `exec setpriv --pdeathsig SIGKILL -- <bin> "$@"` (both execs keep the pid, so the process this
 * one spawns IS the tool, its child); where setpriv is missing (macOS dev) `bin` itself. A script
 * rather than a command prefix because fluent-ffmpeg takes one binary path (setFfmpegPath). The
 * scripts live in a private temp dir (mode 0700) removed when this process exits.
 */
export function diesWithParent(bin: string): string {
  if (pdeathsig === undefined) {
    pdeathsig = process.platform === 'linux' && spawnSync('setpriv', ['--pdeathsig', 'SIGKILL', 'true'], { stdio: 'ignore' }).status === 0;
  }
  if (!pdeathsig) return bin;
  let wrapper = wrappers.get(bin);
  if (wrapper) return wrapper;
  if (!wrapperDir) {
    const dir = mkdtempSync(join(tmpdir(), 'reel-bin-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    wrapperDir = dir;
  }
  wrapper = join(wrapperDir, `${wrappers.size}-${basename(bin).replace(/[^\w.-]/g, '_')}`);
  writeFileSync(wrapper, `#!/bin/sh\nexec setpriv --pdeathsig SIGKILL -- ${shellQuote(bin)} "$@"\n`);
  chmodSync(wrapper, 0o700);
  wrappers.set(bin, wrapper);
  return wrapper;
}
