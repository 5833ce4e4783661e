import { readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Temp directories a process owns are named `<prefix><pid>-<start>-XXXXXX`: the owner's pid and
 * its start time (clock ticks since boot, from /proc; 0 where there is none). Several owners may
 * share a host and a directory (transcoder replicas, test files run side by side), so a directory
 * is stale only when its owner is gone: its pid is dead, or now belongs to a process that started
 * at another time (a restarted container reuses pid 1). A process killed outright (SIGKILL, OOM)
 * runs no cleanup; the next owner to start sweeps what it left.
 */

/** Start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or 0 when unknown. */
export function startTimeOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from its closing one
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]) || 0;
  } catch {
    return 0;
  }
}

/** True while `pid` runs: a zombie (dead, not yet reaped) counts as gone, another user's process as running. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: kill(0) is all there is
  }
}

/** Whether the process that was `pid`, started at `start` (0: unknown), still runs. */
function ownerRuns(pid: number, start: number): boolean {
  if (!isRunning(pid)) return false;
  const now = startTimeOf(pid);
  return start === 0 || now === 0 || now === start;
}

/** The mkdtemp prefix of a directory owned by this process: `<prefix><pid>-<start>-`. */
export function ownedDirPrefix(prefix: string): string {
  return `${prefix}${process.pid}-${startTimeOf(process.pid)}-`;
}

export interface Swept {
  removed: string[];
  failed: { name: string; err: unknown }[];
}

/** Removes the directories under `base` named by ownedDirPrefix with one of `prefixes` whose owner is gone. */
export async function sweepOwnedDirs(base: string, prefixes: readonly string[]): Promise<Swept> {
  const swept: Swept = { removed: [], failed: [] };
  for (const name of await readdir(base).catch(() => [] as string[])) {
    const prefix = prefixes.find((p) => name.startsWith(p));
    const m = prefix === undefined ? null : /^(\d+)-(\d+)-/.exec(name.slice(prefix.length));
    if (!m || ownerRuns(Number(m[1]), Number(m[2]))) continue;
    await rm(join(base, name), { recursive: true, force: true }).then(
      () => swept.removed.push(join(base, name)),
      (err) => swept.failed.push({ name, err }),
    );
  }
  return swept;
}
