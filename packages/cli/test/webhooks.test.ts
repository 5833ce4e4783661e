import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestPlatform } from '@reel/stack';
import t from 'tap';

// `reel webhooks add|ls|rm` as a user runs them, against the whole platform.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'reel.js');
const SYSTEM_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find(existsSync) ?? process.execPath;
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let token = '';
let receiverUrl = '';

function reel(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(SYSTEM_NODE, [BIN, ...args], {
    cwd: ROOT,
    env: { PATH: `${dirname(SYSTEM_NODE)}:${process.env.PATH ?? ''}`, HOME: ROOT, REEL_URL: platform.url, REEL_TOKEN: token, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

t.before(async () => {
  platform = await startTestPlatform(t.teardown, { env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  token = await platform.token('cli-user');
  const server = createServer((_req, res) => res.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  receiverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
});

t.test('add, ls, rm', async (t) => {
  // the webhooks service may still be starting when /v1/health is already ok
  let add = await reel(['webhooks', 'add', receiverUrl, '--events', 'video.ready,video.failed']);
  for (let i = 0; i < 100 && add.code !== 0 && /unavailable/.test(add.stderr); i++) {
    await new Promise((r) => setTimeout(r, 200));
    add = await reel(['webhooks', 'add', receiverUrl, '--events', 'video.ready,video.failed']);
  }
  t.equal(add.code, 0, 'add exits 0', { stderr: add.stderr });
  const id = /^id:\s+(\S+)$/m.exec(add.stdout)?.[1] ?? '';
  t.match(add.stdout, /^secret:\s+whsec_[0-9a-f]{64}$/m, 'the secret is printed once');
  t.match(add.stdout, /^events:\s+video\.ready, video\.failed$/m);
  t.match(add.stderr, /not shown again/);

  const ls = await reel(['webhooks', 'ls']);
  t.equal(ls.code, 0);
  t.match(ls.stdout, new RegExp(`^${id}\\s+${receiverUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+video\\.ready,video\\.failed\\s+yes`, 'm'), 'listed');
  t.notMatch(ls.stdout, /whsec_/, 'ls never shows the secret');
  const json = JSON.parse((await reel(['webhooks', 'ls', '--json'])).stdout) as { id: string }[];
  t.same(
    json.map((h) => h.id),
    [id],
  );

  const other = await reel(['webhooks', 'ls'], { REEL_TOKEN: await platform.token('someone-else') });
  t.match(other.stderr, /no webhooks/, 'another user does not see it');

  const rm = await reel(['webhooks', 'rm', id]);
  t.equal(rm.code, 0);
  t.match(rm.stdout, `deleted webhook ${id}`);
  const again = await reel(['webhooks', 'rm', id]);
  t.equal(again.code, 1, 'removing it again fails');
  t.match(again.stderr, /not_found, HTTP 404/);
});

t.test('usage errors', async (t) => {
  const bad = await reel(['webhooks', 'add', 'ftp://127.0.0.1/x']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /bad_request, HTTP 400/);
  const usage = await reel(['webhooks', 'frob']);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /unknown webhooks command/);
});
