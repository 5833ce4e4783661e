import t from 'tap';
import { startProcess } from '../src/process.ts';
import { processResource } from '../src/restartable.ts';

// A process resource without a server: `sleep` stands in for one, its health for an answer.
const sleeper = (answers: { value: boolean }) =>
  processResource('sleeper', {
    launch: async () => startProcess('sleep', 'sleep', ['60']),
    health: async () => answers.value,
    graceMs: 1000,
  });

t.test('down until up; up, down and health as the launcher uses them', async (t) => {
  const answers = { value: true };
  const r = sleeper(answers);
  t.teardown(() => r.down());
  t.notOk(r.running, 'created down');
  t.notOk(await r.health(), 'not healthy before up()');
  await Promise.all([r.up(), r.up()]);
  t.ok(r.running, 'up');
  const pid = r.pid;
  await r.up();
  t.equal(r.pid, pid, 'up() while up starts nothing');
  t.ok(await r.health());
  answers.value = false;
  t.notOk(await r.health(), 'running but not answering is not healthy');
  await r.down();
  t.notOk(r.running, 'down');
  t.equal(await r.exited, 128, 'ended by its stop signal (process.ts reports any signal as 128)');
  await r.down();
});

t.test('kill is a crash; start and stop are up and down under the fault tests’ names', async (t) => {
  const r = sleeper({ value: true });
  t.teardown(() => r.stop());
  await r.start();
  const first = r.pid;
  await r.kill();
  t.notOk(r.running, 'killed');
  t.equal(await r.exited, 128, 'ended by a signal');
  await r.start();
  t.ok(r.running && r.pid !== first, 'a new process');
  await r.stop();
  t.notOk(r.running);
});
