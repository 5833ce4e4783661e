import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import t from 'tap';
import { startTimeOf } from '@reel/runtime';
import { makeWorkDir, sweepStaleWorkDirs } from '../src/work-dir.ts';

const log = { info() {}, warn() {}, error() {}, debug() {}, child: () => log } as never;

t.test('only the directories of dead workers are swept; live replicas keep theirs', async (t) => {
  const base = t.testdir({});
  const mine = await makeWorkDir(base, 'transcode');
  t.match(basename(mine), new RegExp(`^reel-transcode-${process.pid}-${startTimeOf(process.pid)}-`));
  // a worker that has exited: its pid is dead
  const dead = spawnSync('true').pid as number;
  const deadDir = join(base, `reel-transcode-${dead}-123-abcdef`);
  // a live process whose start time differs: the pid was reused (a restarted container's pid 1)
  const reused = join(base, `reel-thumbs-${process.pid}-${startTimeOf(process.pid) + 1}-abcdef`);
  // another live replica on the same host (this test's parent stands for it)
  const live = join(base, `reel-thumbs-${process.ppid}-${startTimeOf(process.ppid)}-abcdef`);
  const foreign = join(base, 'something-else');
  for (const d of [deadDir, reused, live, foreign]) mkdirSync(join(d, 'out'), { recursive: true });
  t.equal(await sweepStaleWorkDirs(base, log), 2);
  t.notOk(existsSync(deadDir), 'a dead worker’s directory is removed');
  t.notOk(existsSync(reused), 'a reused pid does not keep a directory alive');
  t.ok(existsSync(mine) && existsSync(live) && existsSync(foreign), 'live owners and unrelated files are left alone');
  t.same(readdirSync(base).sort(), [basename(mine), basename(live), 'something-else'].sort());
});
