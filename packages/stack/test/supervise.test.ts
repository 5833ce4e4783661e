import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@reel/testing';
import t from 'tap';
import { startProcess } from '../src/process.ts';
import { processResource } from '../src/restartable.ts';
import { supervise } from '../src/supervise.ts';

// npm start's restart policy, on real processes: a crash is started again; a crash loop is given up.
const dir = mkdtempSync(join(tmpdir(), 'reel-supervise-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** A node process that exits with `code` once `crashes` marker files are missing, else stays up. */
const app = (name: string, crashes: number) =>
  processResource(name, {
    launch: async () => {
      const script = `const fs=require('node:fs');for(let i=0;i<${crashes};i++){const f=${JSON.stringify(join(dir, name))}+i;if(!fs.existsSync(f)){fs.writeFileSync(f,'');process.exit(3)}}setInterval(()=>{},1000)`;
      return startProcess(name, process.execPath, ['-e', script]);
    },
    health: async () => true,
  });

t.test('a process that crashes is started again, and stays up', async (t) => {
  const p = app('flaky', 2);
  let stopping = false;
  t.teardown(() => {
    stopping = true;
    return p.stop();
  });
  const lines: string[] = [];
  let gaveUp = false;
  await p.up();
  supervise([p], { log: (l) => lines.push(l), stopping: () => stopping, onGiveUp: () => (gaveUp = true), backoffMs: () => 50 });
  await until('two restarts', () => lines.length === 2 && p.running, { timeoutMs: 10_000 });
  t.match(lines[0], /^flaky exited with code 3; starting it again in 0.05 s$/, 'each restart is said, with the exit code');
  t.ok(existsSync(join(dir, 'flaky1')), 'it crashed twice');
  await new Promise((r) => setTimeout(r, 300));
  t.ok(p.running, 'running after its second restart');
  t.notOk(gaveUp, 'not given up');
});

t.test('a crash loop is given up, once, with the process name and code', async (t) => {
  const p = app('looping', 100);
  let stopping = false;
  t.teardown(() => {
    stopping = true;
    return p.stop();
  });
  const given: string[] = [];
  await p.up();
  supervise([p], { log: () => {}, stopping: () => stopping, onGiveUp: (name, code) => given.push(`${name}:${code}`), maxRestarts: 3, backoffMs: () => 20 });
  await until('the give-up', () => given.length > 0, { timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 200));
  t.same(given, ['looping:3'], 'given up once');
  t.notOk(p.running, 'not started again');
});

t.test('an exit while the platform stops is not a crash', async (t) => {
  const p = app('steady', 0);
  const lines: string[] = [];
  let stopping = false;
  await p.up();
  supervise([p], { log: (l) => lines.push(l), stopping: () => stopping, onGiveUp: () => {}, backoffMs: () => 20 });
  stopping = true;
  await p.stop();
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(p.running, 'stays stopped');
  t.same(lines, [], 'nothing restarted');
});
