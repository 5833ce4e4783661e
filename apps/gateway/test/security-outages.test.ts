// Issue 9 item 4 (the API's side): while the catalog, NATS or storage is down the API answers
// 503 `unavailable` with Retry-After — a client's cue to come back — never 500/502 `internal`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublisher } from '@reel/events';
import { mintToken } from '@reel/token';
import { startNatsServer } from '@reel/stack/nats-server';
import { keys } from '@reel/storage';
import { connect } from '@nats-io/transport-node';
import t from 'tap';
import { createPlayback } from '../src/playback.ts';
import { discard, errorOf, SECRET, testGateway, video } from './security-fakes.ts';

const ID = '7b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';

t.test('catalog unreachable: 503 unavailable with Retry-After', async (t) => {
  const { app, down, records } = await testGateway();
  t.teardown(() => app.close());
  records.set(ID, video(ID, 'alice'));
  const auth = { authorization: `Bearer ${await mintToken(SECRET, 'alice', 600)}` };
  down.catalog = true;
  for (const [method, url, payload] of [
    ['GET', `/v1/videos/${ID}`],
    ['GET', '/v1/videos'],
    ['PATCH', `/v1/videos/${ID}`, { title: 'x' }],
    ['DELETE', `/v1/videos/${ID}`],
    ['POST', `/v1/videos/${ID}/retry`],
  ] as const) {
    const res = await app.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
    t.equal(res.statusCode, 503, `${method} ${url}`);
    t.equal(errorOf(res.body).code, 'unavailable');
    t.equal(res.headers['retry-after'], '5');
  }
  const health = await app.inject({ method: 'GET', url: '/v1/health' });
  t.equal(health.statusCode, 200, 'health itself answers');
  t.equal((JSON.parse(health.body) as { status: string }).status, 'degraded');
});

t.test('catalog (or its Postgres) down: a multipart upload is still accepted', async (t) => {
  const { app, down, published } = await testGateway({}, () => ({
    putStream: (_bucket, _key, body) => discard(body),
  }));
  t.teardown(() => app.close());
  down.catalog = true;
  const boundary = 'reelcat4logdown';
  const payload = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\nContent-Type: video/mp4\r\n\r\n${'v'.repeat(1000)}\r\n--${boundary}--\r\n`;
  const res = await app.inject({
    method: 'POST',
    url: '/v1/videos',
    headers: { authorization: `Bearer ${await mintToken(SECRET, 'alice', 600)}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload,
  });
  t.equal(res.statusCode, 202, 'the upload needs NATS and storage, not the catalog');
  t.same(
    published.map((p) => p.subject),
    ['video.uploaded'],
  );
});

t.test('storage unreachable: 503 unavailable with Retry-After', async (t) => {
  // S3_ENDPOINT points at a port nothing listens on
  const { app, records } = await testGateway();
  t.teardown(() => app.close());
  const auth = { authorization: `Bearer ${await mintToken(SECRET, 'alice', 600)}` };
  records.set(ID, video(ID, 'alice', { status: 'failed', sourceObject: { bucket: 'reel-sources', key: keys.source(ID), size: 1 } }));
  const retry = await app.inject({ method: 'POST', url: `/v1/videos/${ID}/retry`, headers: auth });
  t.equal(retry.statusCode, 503, 'retry needs to see the source');
  t.equal(errorOf(retry.body).code, 'unavailable');
  t.equal(retry.headers['retry-after'], '5');
  const token = createPlayback({ secret: SECRET, ttlSec: 600, storage: app.storage, baseUrl: '' }).token(ID);
  const master = await app.inject({ method: 'GET', url: `/v1/videos/${ID}/hls/master.m3u8?token=${token}` });
  t.equal(master.statusCode, 503, 'a playlist needs storage');
  t.equal(errorOf(master.body).code, 'unavailable');
  t.equal(master.headers['retry-after'], '5');
});

t.test('NATS down: 503 unavailable with Retry-After, and the upload is not lost silently', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reel-sec-outage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const nats = await startNatsServer({ dir });
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  t.teardown(() => nc.close());
  const removed: string[] = [];
  const { app } = await testGateway(
    {},
    () => ({
      putStream: (_bucket, _key, body) => discard(body),
      async remove(_bucket, key) {
        removed.push(key);
      },
      async removePrefix(_bucket, prefix) {
        removed.push(prefix);
        return 1;
      },
    }),
    { nc, publisher: createPublisher(nc) },
  );
  t.teardown(() => app.close());
  await nats.stop();
  const auth = { authorization: `Bearer ${await mintToken(SECRET, 'alice', 600)}` };

  const get = await app.inject({ method: 'GET', url: `/v1/videos/${ID}`, headers: auth });
  t.equal(get.statusCode, 503, 'a read');
  t.equal(errorOf(get.body).code, 'unavailable');
  t.equal(get.headers['retry-after'], '5');

  const boundary = 'reel0utage';
  const payload = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\nContent-Type: video/mp4\r\n\r\n${'v'.repeat(1000)}\r\n--${boundary}--\r\n`;
  const started = Date.now();
  const post = await app.inject({
    method: 'POST',
    url: '/v1/videos',
    headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload,
  });
  t.comment(`POST /v1/videos with NATS down answered ${post.statusCode} in ${Date.now() - started} ms`);
  t.equal(post.statusCode, 503, 'an upload whose event cannot be published');
  t.equal(errorOf(post.body).code, 'unavailable');
  t.equal(post.headers['retry-after'], '5');
  t.ok(removed.length > 0, `its bytes are not kept: ${removed.join(', ')}`);
});
