import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { isRunning as alive, startTimeOf } from '@reel/runtime';
import { until } from '@reel/testing';
import { startProcess } from '../src/process.ts';
import { sweepStaleTestDirs } from '../src/testing.ts';

t.test('a missing program exits 127 and says so', async (t) => {
  const lines: string[] = [];
  const p = startProcess('missing', '/nonexistent/reel-program', [], { log: (l) => lines.push(l) });
  t.equal(await p.exited, 127);
  t.match(lines.join('\n'), /nonexistent\/reel-program/, 'the log names the program');
});

// An owner killed with SIGKILL runs no exit hook: what it started must still go away.
t.test(
  'what an owner started stops when the owner is SIGKILLed',
  { skip: process.platform !== 'linux' && 'parent-death signals are Linux only' },
  async (t) => {
    const script = `
    import { startProcess } from ${JSON.stringify(new URL('../src/process.ts', import.meta.url).href)};
    const p = startProcess('sleep', 'sleep', ['600']);
    await new Promise((r) => setTimeout(r, 200));
    console.log(p.child.pid);
    setInterval(() => {}, 1000);
  `;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => owner.kill('SIGKILL'));
    const [line] = (await once(createInterface({ input: owner.stdout }), 'line')) as [string];
    const pid = Number(line);
    t.ok(pid > 0 && alive(pid), `the owner started sleep (pid ${pid})`);
    t.teardown(() => {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    owner.kill('SIGKILL');
    await until('sleep to be gone', () => !alive(pid), { timeoutMs: 5000 });
    t.notOk(alive(pid), 'sleep went with its owner');
  },
);

t.test('a test directory is removed by the next test run once its owner is gone, and only then', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'reel-sweep-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dead = spawnSync('true').pid ?? 0;
  const make = (name: string) => {
    const dir = join(root, name);
    mkdirSync(join(dir, 'pg'), { recursive: true });
    return dir;
  };
  const stale = make(`reel-test-${dead}-123-abcdef`);
  // this process' pid with another start time: a reused pid does not keep a directory alive
  const reused = make(`reel-test-${process.pid}-${startTimeOf(process.pid) + 1}-abcdef`);
  const live = make(`reel-test-${process.pid}-${startTimeOf(process.pid)}-abcdef`);
  const unowned = make('reel-test-abcdef');
  const other = make(`reel-bench-${dead}-123-abcdef`);
  t.same((await sweepStaleTestDirs(root)).sort(), [stale, reused].sort(), "the dead owners' directories are removed");
  t.notOk(existsSync(stale));
  t.notOk(existsSync(reused));
  t.ok(existsSync(live), 'a running owner keeps its directory');
  t.ok(existsSync(unowned), 'a directory not named for an owner is left alone');
  t.ok(existsSync(other), 'other directories are not looked at');
});
