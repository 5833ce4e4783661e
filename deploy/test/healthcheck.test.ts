// deploy/healthcheck.ts: the exec probe of the services without an HTTP port (compose
// healthcheck, Kubernetes startup/readiness/liveness probes).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import t from 'tap';
import { connectNats, createLogger, serveHealth } from '../../packages/runtime/src/mod.ts';
import { hasCommand } from '../../packages/stack/src/apt.ts';
import { startNatsServer } from '../../packages/stack/src/nats-server.ts';
import { hasConnection, main, natsPorts, parseTcpTable, withoutCredentials } from '../healthcheck.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const onLinux = existsSync('/proc/self/net/tcp');

t.test('natsPorts reads every server of NATS_URL', async (t) => {
  t.same([...natsPorts('nats://nats:4222')], [4222]);
  t.same([...natsPorts('nats://a:4300, tls://b')].sort(), [4222, 4300]);
  t.same([...natsPorts('wss://nats.example.com')], [443]);
  t.same([...natsPorts('nats://user:pass@reel-nats.reel.svc.cluster.local')], [4222]);
});

t.test('probe output never shows NATS credentials', async (t) => {
  t.equal(withoutCredentials('nats://reel:s3cret@nats:4222'), 'nats://nats:4222');
  t.equal(withoutCredentials('tls://a:b@n1:4222,nats://n2'), 'tls://n1:4222,nats://n2');
  const r = await main(['--liveness', '--pid', String(process.pid)], { NATS_URL: 'nats://reel:s3cret@127.0.0.1:1' });
  t.notMatch(r.message, /s3cret/);
});

t.test('parseTcpTable reads /proc/net/tcp lines', async (t) => {
  const text = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 123 1 0000000000000000 100 0 0 10 0',
    '   1: 0200000A:C350 0300000A:107E 01 00000000:00000000 02:000A7B2A 00000000  1000        0 456 2 0000000000000000 20 4 30 10 -1',
    '',
  ].join('\n');
  t.same(parseTcpTable(text), [
    { remotePort: 0, state: '0A', inode: '123' },
    { remotePort: 4222, state: '01', inode: '456' },
  ]);
});

t.test('hasConnection sees this process connected to a port, and only that one', { skip: !onLinux && 'needs Linux /proc' }, async (t) => {
  const server: Server = createServer((s) => s.on('error', () => {}));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  t.notOk(hasConnection(process.pid, new Set([port])), 'not connected yet');
  const socket: Socket = tcpConnect(port, '127.0.0.1');
  await once(socket, 'connect');
  t.ok(hasConnection(process.pid, new Set([port])), 'connected');
  t.notOk(hasConnection(process.pid, new Set([port + 1 === 65536 ? 1 : port + 1])), 'another port');
  socket.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise((r) => setTimeout(r, 50));
  t.notOk(hasConnection(process.pid, new Set([port])), 'closed');
});

t.test('main: usage and a missing app process are failures', async (t) => {
  t.equal((await main([], {})).ok, false);
  const r = await main(['--liveness', '--pid', '999999999'], { NATS_URL: 'nats://127.0.0.1:4222' });
  t.equal(r.ok, false);
  t.match(r.message, /999999999/);
});

const natsInstalled = hasCommand('nats-server') || existsSync('/usr/sbin/nats-server');

t.test(
  'against a real NATS server',
  { skip: (!onLinux && 'needs Linux /proc') || (!natsInstalled && 'nats-server is not installed (npm test installs it)') },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'reel-healthcheck-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const nats = await startNatsServer({ dir });
    t.teardown(() => nats.stop());
    const env = { NATS_URL: nats.url };
    const pid = String(process.pid);

    // startNatsServer's own port probe lingers a moment after it is closed
    t.ok(await eventually(async () => !(await main(['--liveness', '--pid', pid], env)).ok), 'not connected: not alive');

    // this test process plays the service: connected, answering reel.health.ingest
    const log = createLogger('ingest', 'silent');
    const nc = await connectNats(nats.url, 'ingest', log);
    const sub = serveHealth(nc, 'ingest', log);
    await nc.flush();

    t.same(await main(['--liveness', '--pid', pid], env), { ok: true, message: `process ${pid} is connected to NATS` });
    t.same(await main(['ingest', '--pid', pid], env), { ok: true, message: 'ingest is up' });
    const other = await main(['packager', '--pid', pid, '--timeout', '300'], env);
    t.equal(other.ok, false, 'a service nobody serves is not ready');
    t.match(other.message, /reel\.health\.packager/);

    // the CLI as the probes run it (exit code + one line); async: this process must answer
    const cli = await promisify(execFile)(process.execPath, [join(ROOT, 'deploy', 'healthcheck.ts'), 'ingest', '--pid', pid], {
      env: { ...process.env, ...env },
      timeout: 20_000,
    });
    t.equal(cli.stdout.trim(), 'ingest is up');
    const down = await promisify(execFile)(process.execPath, [join(ROOT, 'deploy', 'healthcheck.ts'), '--liveness', '--pid', '999999999'], {
      env: { ...process.env, ...env },
    }).then(
      () => 0,
      (err: { code?: number }) => err.code,
    );
    t.equal(down, 1, 'exit code 1 when unhealthy');

    sub.unsubscribe();
    await nc.close();
    t.ok(await eventually(async () => !(await main(['--liveness', '--pid', pid], env)).ok), 'disconnected: not alive');
  },
);

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
