// Issue 14, items 3, 5 and 10, replayed as an attacker would: forged playback links from a
// JWKS-only gateway, a rate limit dodged by spelling the header differently or by inventing
// X-Forwarded-For addresses, and reads and event streams with no limit at all.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isConfigError } from '@reel/runtime';
import { mintToken } from '@reel/token';
import { startNatsServer } from '@reel/stack/nats-server';
import { until } from '@reel/testing';
import t from 'tap';
import { parseTrustProxy, playbackSecret } from '../src/config.ts';
import { clientNetwork } from '../src/plugins/rate-limit.ts';
import { errorOf, SECRET, testGateway, video } from './security-fakes.ts';

const ID = '3f2a1c9e-0b7d-4e51-9a0c-5d2e8f6b7a10';

t.test('14.3: a JWKS-only gateway without a playback secret refuses to start', async (t) => {
  t.throws(() => playbackSecret({}), /PLAYBACK_SIGNING_SECRET/);
  t.ok(
    (() => {
      try {
        playbackSecret({});
      } catch (err) {
        return isConfigError(err);
      }
    })(),
    'a configuration error, listed like every other',
  );
  t.equal(playbackSecret({ PLAYBACK_SIGNING_SECRET: 'p'.repeat(32), AUTH_JWT_SECRET: SECRET }), 'p'.repeat(32));
  const derived = playbackSecret({ AUTH_JWT_SECRET: SECRET });
  t.not(derived, SECRET, 'derived from the (secret) HS256 key, not equal to it');
  t.equal(derived, playbackSecret({ AUTH_JWT_SECRET: SECRET }), 'stable across restarts');

  // the real process, as an operator starts it: NATS is there, only AUTH_JWKS_URL is set
  const dir = mkdtempSync(join(tmpdir(), 'reel-sec-auth-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const nats = await startNatsServer({ dir });
  t.teardown(() => nats.stop());
  const env = {
    PATH: process.env.PATH ?? '',
    NATS_URL: nats.url,
    AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
    HOST: '127.0.0.1',
    PORT: '0',
    OTEL_SDK_DISABLED: 'true',
  };
  const started = Date.now();
  const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'src', 'main.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
  t.equal(run.code, 1, `exits 1 (after ${Date.now() - started} ms)`);
  t.match(run.out, /PLAYBACK_SIGNING_SECRET: required when AUTH_JWT_SECRET is not set/, 'says what to set');
  t.notMatch(run.out, /gateway listening/, 'never listened');
});

t.test('14.5: the write limit holds however the bearer header is spelled', async (t) => {
  const { app, records } = await testGateway({ RATE_LIMIT_WRITES_PER_MIN: '5' });
  t.teardown(() => app.close());
  records.set(ID, video(ID, 'mallory', { status: 'ready' }));
  const token = await mintToken(SECRET, 'mallory', 600);
  const spellings = [
    `Bearer ${token}`,
    `bearer ${token}`,
    `BEARER ${token}`,
    `Bearer  ${token}`,
    `Bearer\t${token}`,
    ` bEaReR ${token} `,
    `Bearer \t ${token}`,
  ];
  const statuses: number[] = [];
  for (const authorization of spellings) {
    const res = await app.inject({ method: 'PATCH', url: `/v1/videos/${ID}`, headers: { authorization }, payload: { title: 'x' } });
    statuses.push(res.statusCode);
  }
  t.same(statuses, [200, 200, 200, 200, 200, 429, 429], 'every spelling is accepted by auth and counted against the same subject');
  const refused = await app.inject({ method: 'PATCH', url: `/v1/videos/${ID}`, headers: { authorization: `bearer ${token}` }, payload: { title: 'x' } });
  t.equal(errorOf(refused.body).code, 'rate_limited');
  t.ok(Number(refused.headers['retry-after']) > 0 && Number(refused.headers['retry-after']) <= 60, `Retry-After: ${refused.headers['retry-after']}`);
  // a second token for the same subject is the same caller
  const another = await mintToken(SECRET, 'mallory', 1200);
  t.equal(
    (await app.inject({ method: 'PATCH', url: `/v1/videos/${ID}`, headers: { authorization: `Bearer ${another}` }, payload: { title: 'x' } })).statusCode,
    429,
  );
  // someone else is not affected
  records.set('4f2a1c9e-0b7d-4e51-9a0c-5d2e8f6b7a10', video('4f2a1c9e-0b7d-4e51-9a0c-5d2e8f6b7a10', 'alice'));
  const alice = await mintToken(SECRET, 'alice', 600);
  t.equal(
    (
      await app.inject({
        method: 'PATCH',
        url: '/v1/videos/4f2a1c9e-0b7d-4e51-9a0c-5d2e8f6b7a10',
        headers: { authorization: `Bearer ${alice}` },
        payload: { title: 'x' },
      })
    ).statusCode,
    200,
  );
});

t.test('14.5: forged tokens do not buy fresh buckets; they count against the address', async (t) => {
  const { app } = await testGateway({ RATE_LIMIT_READS_PER_MIN: '10' });
  t.teardown(() => app.close());
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const forged = await mintToken(`another-secret-nobody-has-${i}-0123456789abcdef`, `user-${i}`, 600);
    statuses.push((await app.inject({ method: 'GET', url: `/v1/videos/${ID}`, headers: { authorization: `Bearer ${forged}` } })).statusCode);
  }
  t.same(statuses, [...Array(10).fill(401), 429, 429]);
});

t.test('14.5: X-Forwarded-For is ignored unless TRUST_PROXY names the proxy', async (t) => {
  const spoof = async (env: Record<string, string>) => {
    const { app } = await testGateway({ RATE_LIMIT_READS_PER_MIN: '5', ...env });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await app.inject({ method: 'GET', url: `/v1/videos/${ID}`, headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } })).statusCode);
    await app.close();
    return statuses;
  };
  t.same(await spoof({}), [404, 404, 404, 404, 404, 429, 429, 429], 'by default: one client, whatever it claims');
  t.same(await spoof({ TRUST_PROXY: '127.0.0.1' }), Array(8).fill(404), 'behind a named proxy: each forwarded client has its own budget');
  t.same(await spoof({ TRUST_PROXY: '10.0.0.0/8' }), [404, 404, 404, 404, 404, 429, 429, 429], 'a proxy not in the list is not believed');
  t.same(parseTrustProxy('false'), false);
  t.same(parseTrustProxy('true'), true);
  t.same(parseTrustProxy('2'), 2);
  t.same(parseTrustProxy('10.0.0.0/8, 192.168.1.10 ,fd00::/8'), ['10.0.0.0/8', '192.168.1.10', 'fd00::/8']);
  t.throws(() => parseTrustProxy('10.0.0.0/33'));
  t.throws(() => parseTrustProxy('proxy.example.com'));
  t.equal(clientNetwork('::ffff:198.51.100.7'), '198.51.100.7');
  t.equal(clientNetwork('2001:db8:0:42::1'), '2001:db8:0:42::/64', 'an IPv6 client is its /64');
  t.equal(clientNetwork('2001:db8:0:42:ffff::9'), clientNetwork('2001:db8:0:42::1'));
});

t.test('14.10: reads are limited per caller, one budget across the read routes', async (t) => {
  const { app, records } = await testGateway({ RATE_LIMIT_READS_PER_MIN: '6' });
  t.teardown(() => app.close());
  records.set(ID, video(ID, 'reader', { status: 'failed' }));
  const reader = await mintToken(SECRET, 'reader', 600);
  const auth = { authorization: `Bearer ${reader}` };
  const urls = ['/v1/videos', `/v1/videos/${ID}`, `/v1/videos/${ID}/hls/master.m3u8?token=1.p.x`];
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await app.inject({ method: 'GET', url: urls[i % 3] as string, headers: auth })).statusCode);
  t.same(statuses, [200, 200, 403, 200, 200, 403, 429, 429]);
  const limited = await app.inject({ method: 'GET', url: '/v1/videos', headers: auth });
  t.equal(errorOf(limited.body).code, 'rate_limited');
  t.ok(Number(limited.headers['retry-after']) > 0, `Retry-After: ${limited.headers['retry-after']}`);
  const other = await mintToken(SECRET, 'other', 600);
  t.equal((await app.inject({ method: 'GET', url: '/v1/videos', headers: { authorization: `Bearer ${other}` } })).statusCode, 200, 'others are not affected');
});

t.test('14.10: a flood of health checks costs one round of NATS queries', async (t) => {
  const { app, queries } = await testGateway();
  t.teardown(() => app.close());
  const answers = await Promise.all(Array.from({ length: 50 }, () => app.inject({ method: 'GET', url: '/v1/health' })));
  t.ok(
    answers.every((a) => a.statusCode === 200 && JSON.parse(a.body).status === 'ok'),
    'every one answered',
  );
  t.equal(queries.length, 5, `50 concurrent GET /v1/health asked the five services once (${queries.length} queries)`);
  // the point of the test: wait out the window (REUSE_MS, 500 ms in routes/health.ts) in which one round answers everything
  await new Promise((r) => setTimeout(r, 600));
  await app.inject({ method: 'GET', url: '/v1/health' });
  t.equal(queries.length, 10, 'a moment later, a fresh round');
});

t.test('14.10: a caller holds at most SSE_MAX_STREAMS_PER_CALLER event streams', async (t) => {
  const { app, records } = await testGateway({ SSE_MAX_STREAMS_PER_CALLER: '3' });
  t.teardown(() => app.close());
  records.set(ID, video(ID, 'streamer'));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const token = await mintToken(SECRET, 'streamer', 600);
  const open = () => {
    const ac = new AbortController();
    return fetch(`${url}/v1/videos/${ID}/events?access_token=${token}`, { signal: ac.signal }).then((res) => ({ res, ac }));
  };
  const streams = [await open(), await open(), await open()];
  t.same(
    streams.map((s) => s.res.status),
    [200, 200, 200],
  );
  const fourth = await open();
  t.equal(fourth.res.status, 429, 'the fourth is refused');
  t.equal(((await fourth.res.json()) as { error: { code: string } }).error.code, 'rate_limited');
  t.ok(Number(fourth.res.headers.get('retry-after')) > 0, `Retry-After: ${fourth.res.headers.get('retry-after')}`);
  const viaHeader = await fetch(`${url}/v1/videos/${ID}/events`, { headers: { authorization: `bearer  ${token}` } });
  t.equal(viaHeader.status, 429, 'the same caller with the token in the header');
  // closing one frees its slot
  streams[0]?.ac.abort();
  let again = 0;
  const freed = await until(
    'a free stream slot once one stream is closed',
    async () => {
      const s = await open();
      again = s.res.status;
      return again === 200 && s;
    },
    { timeoutMs: 5_000, everyMs: 100, explain: () => `the last try was answered ${again}` },
  );
  streams.push(freed);
  t.equal(freed.res.status, 200, 'a slot is free again once a stream closes');
  for (const s of streams) s.ac.abort();
});

t.test('verified tokens are cached, but never past their expiry', async (t) => {
  const { app, records } = await testGateway();
  t.teardown(() => app.close());
  records.set(ID, video(ID, 'brief'));
  const token = await mintToken(SECRET, 'brief', 2);
  const get = () => app.inject({ method: 'GET', url: `/v1/videos/${ID}`, headers: { authorization: `Bearer ${token}` } });
  t.equal((await get()).statusCode, 200);
  // the point of the test: wait out the token's 2 s lifetime (exp has whole seconds), nothing else to wait for
  await new Promise((r) => setTimeout(r, 2100));
  const res = await get();
  t.equal(res.statusCode, 401, 'refused once expired, though it was verified a moment ago');
});
