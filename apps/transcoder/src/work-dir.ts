import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@reel/events';
import { ownedDirPrefix, sweepOwnedDirs } from '@reel/runtime';

/** A job's temp directory is `reel-<kind>-<pid>-<start>-XXXXXX`, owned by this worker (see @reel/runtime's owned-dirs). */
type Kind = 'transcode' | 'audio' | 'thumbs';
const KINDS: readonly Kind[] = ['transcode', 'audio', 'thumbs'];

/** A fresh temp directory for one job, marked with this process as its owner. */
export function makeWorkDir(base: string | undefined, kind: Kind): Promise<string> {
  return mkdtemp(join(base ?? tmpdir(), ownedDirPrefix(`reel-${kind}-`)));
}

/** Removes the temp directories left by workers that died (kill -9, OOM) under `base`; returns how many. */
export async function sweepStaleWorkDirs(base: string | undefined, log: Logger): Promise<number> {
  const dir = base ?? tmpdir();
  const { removed, failed } = await sweepOwnedDirs(
    dir,
    KINDS.map((k) => `reel-${k}-`),
  );
  for (const { name, err } of failed) log.warn({ err, dir: name }, 'stale work directory not removed');
  if (removed.length) log.info({ removed: removed.length, dir }, 'stale work directories of dead workers removed');
  return removed.length;
}
