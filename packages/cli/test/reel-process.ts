// `reel` as a user runs it: a process started by the machine's own Node when it has one (e.g.
// Node 20, to prove the launcher), with only the environment a test gives it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = join(ROOT, 'packages', 'cli', 'bin', 'reel.js');
export const SYSTEM_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find(existsSync) ?? process.execPath;
/** PATH with the system Node first, as on a user's machine. */
export const USER_PATH = `${dirname(SYSTEM_NODE)}:${process.env.PATH ?? ''}`;

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `reel …` (or `command …`); `onStderr` sees stderr as it grows (to act mid-way). */
export function startReel(
  args: string[],
  env: Record<string, string>,
  opts: { onStderr?: (all: string) => void; command?: string[] } = {},
): { child: ChildProcess; done: Promise<Run> } {
  const [cmd, ...pre] = opts.command ?? [SYSTEM_NODE, BIN];
  const child = spawn(cmd as string, [...pre, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    opts.onStderr?.(stderr);
  });
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}
