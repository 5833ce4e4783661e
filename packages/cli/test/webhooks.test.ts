import { createServer } from 'node:http';
import { poll, startTestPlatform } from '@reel/stack';
import t from 'tap';
import { ROOT, startReel, USER_PATH } from './reel-process.ts';

// `reel webhooks add|ls|rm` as a user runs them, against the whole platform.
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let token = '';
let receiverUrl = '';

const reel = (args: string[], env: Record<string, string> = {}) =>
  startReel(args, { PATH: USER_PATH, HOME: ROOT, REEL_URL: platform.url, REEL_TOKEN: token, ...env }).done;

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
  const add = await poll(
    () => reel(['webhooks', 'add', receiverUrl, '--events', 'video.ready,video.failed']),
    (r) => r.code === 0 || !/unavailable/.test(r.stderr),
    { timeoutMs: 20_000, everyMs: 200 },
  );
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
