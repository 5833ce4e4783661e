import { readdirSync, readFileSync } from 'node:fs';
import { isRunning } from '@reel/runtime';

export { isRunning };

/** Pids of the running ffmpeg processes with an argument containing `needle` (a work dir, a video id). */
export function ffmpegPids(needle: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (/(^|\/)ffmpeg$/.test(cmd[0] ?? '') && cmd.some((a) => a.includes(needle)) && isRunning(Number(p))) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Waits for an ffmpeg process with an argument containing `needle`; returns its pid. */
export async function waitForFfmpeg(needle: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [pid] = ffmpegPids(needle);
    if (pid) return pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ffmpeg for ${needle} within ${timeoutMs} ms`);
}

/** Parent pid of `pid`, from /proc. */
export function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}
