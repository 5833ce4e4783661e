import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

let pdeathsig: boolean | undefined;

/** True on Linux with util-linux's setpriv: a child can be told to die with its parent. */
function canDieWithParent(): boolean {
  pdeathsig ??= process.platform === 'linux' && spawnSync('setpriv', ['--pdeathsig', 'SIGKILL', 'true'], { stdio: 'ignore' }).status === 0;
  return pdeathsig;
}

/**
 * `bin args` as a command that dies with this process, even on kill -9: through
 * `setpriv --pdeathsig SIGKILL` (which execs the tool, so the pid is the tool's); where setpriv
 * is missing (macOS dev) the tool is run as is.
 */
export function dyingWithParent(bin: string, args: string[]): { command: string; args: string[] } {
  return canDieWithParent() ? { command: 'setpriv', args: ['--pdeathsig', 'SIGKILL', '--', bin, ...args] } : { command: bin, args };
}

const SCRIPT = fileURLToPath(new URL('../bin/ffmpeg-dying.sh', import.meta.url));

/**
 * The path to give fluent-ffmpeg's setFfmpegPath for `bin`: it takes one binary, no prefix, so
 * the prefix lives in a script of this package (bin/ffmpeg-dying.sh) that execs setpriv, which
 * execs `bin`, named in REEL_MEDIA_FFMPEG. A committed script, not one written at run time:
 * nothing is left in TMPDIR, and it works on a read-only root. The variable is process-wide, as
 * fluent-ffmpeg's ffmpeg path is (setFfmpegPath sets a module-wide cache).
 */
export function fluentFfmpegPath(bin: string): string {
  if (!canDieWithParent()) return bin;
  process.env.REEL_MEDIA_FFMPEG = bin;
  return SCRIPT;
}
