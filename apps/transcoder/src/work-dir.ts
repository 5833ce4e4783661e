import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@reel/events';

/**
 * Temp directories are named `reel-<kind>-<pid>-<start>-XXXXXX`: the owner's pid and its start
 * time (clock ticks since boot, from /proc; 0 where there is none). Several replicas may share a
 * host and a WORK_DIR, so a directory is stale only when its owner is gone — its pid is dead, or
 * now belongs to a process that started at another time (a restarted container reuses pid 1).
 */
const NAME = /^reel-(transcode|audio|thumbs)-(\d+)-(\d+)-/;

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

const self = `${process.pid}-${startTimeOf(process.pid)}`;

/** A fresh temp directory for one job, marked with this process as its owner. */
export function makeWorkDir(base: string | undefined, kind: 'transcode' | 'audio' | 'thumbs'): Promise<string> {
  return mkdtemp(join(base ?? tmpdir(), `reel-${kind}-${self}-`));
}

function isAlive(pid: number, start: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // alive (or not ours to signal): the same process only if it started when the owner did
  return start === 0 || startTimeOf(pid) === 0 || startTimeOf(pid) === start;
}

/** Removes the temp directories left by workers that died (kill -9, OOM) under `base`; returns how many. */
export async function sweepStaleWorkDirs(base: string | undefined, log: Logger): Promise<number> {
  const dir = base ?? tmpdir();
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = NAME.exec(name);
    if (!m || isAlive(Number(m[2]), Number(m[3]))) continue;
    await rm(join(dir, name), { recursive: true, force: true }).then(
      () => removed++,
      (err) => log.warn({ err, dir: name }, 'stale work directory not removed'),
    );
  }
  if (removed) log.info({ removed, dir }, 'stale work directories of dead workers removed');
  return removed;
}
