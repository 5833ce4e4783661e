import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keys } from '@reel/storage';
import { createStorage } from '@reel/storage';
import { makeClip, startTestPlatform, until, uploadFile, waitForVideo } from '@reel/stack';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import t from 'tap';
import { createPlayback } from '../src/playback.ts';

// Everything a user touches through the API, tried as they would: HTTP only.
const dir = mkdtempSync(join(tmpdir(), 'reel-api-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const PLAYBACK_SECRET = 'playback-secret-for-the-api-test-0123456789';
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let alice: string;
let bob: string;
let jwksKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
const clip = () => makeClip(dir, 'silent', 2);

t.before(async () => {
  // an identity provider of our own: a JWKS with one ES256 key
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  jwksKey = privateKey;
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const idp = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  t.teardown(() => idp.close());
  const port = (idp.address() as { port: number }).port;
  platform = await startTestPlatform(t.teardown, {
    env: {
      AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
      PLAYBACK_SIGNING_SECRET: PLAYBACK_SECRET,
      UPLOAD_URL_TTL_SEC: '2',
      UPLOAD_SWEEP_INTERVAL_SEC: '1',
      RATE_LIMIT_WRITES_PER_MIN: '40',
      MAX_UPLOAD_BYTES: String(20 * 1024 * 1024),
    },
  });
  alice = await platform.token('alice');
  bob = await platform.token('bob');
});

const api = (path: string, init: RequestInit & { token?: string; json?: unknown } = {}) =>
  fetch(`${platform.url}${path}`, {
    ...init,
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.headers as Record<string, string>),
    },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
const storage = () => createStorage({ S3_SOURCE_BUCKET: 'reel-sources', S3_MEDIA_BUCKET: 'reel-media', S3_REGION: 'us-east-1', ...platform.env } as never);
const count = async (bucket: string, prefix: string) => {
  let n = 0;
  for await (const _ of storage().client.listObjectsV2(bucket, prefix, true)) n++;
  return n;
};
const WAIT = { timeoutMs: 20_000, everyMs: 200 };
const upload = async (token: string, fields: Record<string, string> = {}) => {
  const res = await uploadFile(platform.url, token, clip(), fields);
  return ((await res.json()) as { id: string }).id;
};

t.test('direct upload: presigned PUT straight to storage, then complete', async (t) => {
  const file = clip();
  const bytes = readFileSync(file);
  const created = await api('/v1/uploads', { method: 'POST', token: alice, json: { title: 'direct', filename: 'a.mp4', size: bytes.length } });
  t.equal(created.status, 201);
  const c = (await created.json()) as { videoId: string; url: string; method: string; expiresAt: string };
  t.equal(c.method, 'PUT');
  t.ok(new URL(c.url).searchParams.get('X-Amz-Signature'), 'a presigned storage URL');
  const waiting = await until(
    'waiting_upload',
    async () => {
      const r = await api(`/v1/videos/${c.videoId}`, { token: alice });
      const v = r.ok ? ((await r.json()) as { status: string }) : undefined;
      return v?.status === 'waiting_upload' ? v : undefined;
    },
    WAIT,
  );
  t.equal(waiting.status, 'waiting_upload');
  const put = await fetch(c.url, { method: 'PUT', body: bytes });
  t.equal(put.status, 200, 'the bytes go to storage, not through the API');
  const done = await api(`/v1/uploads/${c.videoId}/complete`, { method: 'POST', token: alice });
  t.equal(done.status, 202);
  const v = await waitForVideo(platform.url, alice, c.videoId);
  t.equal(v.status, 'ready');
  t.equal(v.title, 'direct');
});

t.test('complete without the bytes is a 409; over the limit is a 413; someone else’s is a 404', async (t) => {
  const created = await api('/v1/uploads', { method: 'POST', token: alice, json: { title: 'never sent', size: 1000 } });
  const { videoId } = (await created.json()) as { videoId: string };
  await until('catalog has it', async () => (await api(`/v1/videos/${videoId}`, { token: alice })).ok || undefined, WAIT);
  const early = await api(`/v1/uploads/${videoId}/complete`, { method: 'POST', token: alice });
  t.equal(early.status, 409);
  t.equal(((await early.json()) as { error: { code: string } }).error.code, 'upload_missing');
  const other = await api(`/v1/uploads/${videoId}/complete`, { method: 'POST', token: bob });
  t.equal(other.status, 404);
  const big = await api('/v1/uploads', { method: 'POST', token: alice, json: { size: 100 * 1024 * 1024 } });
  t.equal(big.status, 413);
});

t.test('an upload never completed expires and is cleaned up', async (t) => {
  const created = await api('/v1/uploads', { method: 'POST', token: alice, json: { title: 'abandoned', size: 10 } });
  const c = (await created.json()) as { videoId: string; url: string };
  await fetch(c.url, { method: 'PUT', body: 'partial!!!' }); // bytes arrived but complete never called
  await until('the video is gone', async () => ((await api(`/v1/videos/${c.videoId}`, { token: alice })).status === 404 ? true : undefined), WAIT);
  await until('its bytes are gone', async () => ((await count('reel-sources', keys.sourcePrefix(c.videoId))) === 0 ? true : undefined), WAIT);
  t.pass('video and object removed');
});

t.test('PATCH changes title, description and visibility; only the owner may', async (t) => {
  const id = await upload(alice, { title: 'before' });
  await waitForVideo(platform.url, alice, id);
  const res = await api(`/v1/videos/${id}`, { method: 'PATCH', token: alice, json: { title: 'after', visibility: 'public' } });
  t.equal(res.status, 200);
  t.equal(((await res.json()) as { title: string }).title, 'after');
  const anon = await until(
    'public without a token',
    async () => {
      const r = await api(`/v1/videos/${id}`);
      return r.ok ? ((await r.json()) as { title: string; playback?: { hls: string } }) : undefined;
    },
    WAIT,
  );
  t.equal(anon.title, 'after');
  t.ok(anon.playback?.hls, 'a public video plays without a token');
  const bobs = await api(`/v1/videos/${id}`, { method: 'PATCH', token: bob, json: { title: 'mine now' } });
  t.equal(bobs.status, 403);
  const bad = await api(`/v1/videos/${id}`, { method: 'PATCH', token: alice, body: '{"title": ', headers: { 'content-type': 'application/json' } });
  t.equal(bad.status, 400);
  t.equal(((await bad.json()) as { error: { code: string } }).error.code, 'bad_request');
  const unknown = await api(`/v1/videos/${id}`, { method: 'PATCH', token: alice, json: { owner: 'bob' } });
  t.equal(unknown.status, 400);
  const noToken = await api(`/v1/videos/${id}`, { method: 'PATCH', json: { title: 'x' } });
  t.equal(noToken.status, 401);
});

t.test('DELETE removes the video everywhere: row, objects, playlists', async (t) => {
  const id = await upload(alice);
  const v = (await waitForVideo(platform.url, alice, id)) as unknown as { playback: { hls: string } };
  t.equal((await fetch(v.playback.hls)).status, 200);
  t.ok((await count('reel-media', keys.mediaPrefix(id))) > 0);
  t.equal((await api(`/v1/videos/${id}`, { method: 'DELETE', token: bob })).status, 404, 'not bob’s to delete');
  t.equal((await api(`/v1/videos/${id}`, { method: 'DELETE', token: alice })).status, 204);
  await until('gone from the catalog', async () => ((await api(`/v1/videos/${id}`, { token: alice })).status === 404 ? true : undefined), WAIT);
  await until('media removed', async () => ((await count('reel-media', keys.mediaPrefix(id))) === 0 ? true : undefined), WAIT);
  await until('source removed', async () => ((await count('reel-sources', keys.sourcePrefix(id))) === 0 ? true : undefined), WAIT);
  t.equal((await fetch(v.playback.hls)).status, 404, 'a deleted video’s playlist is gone');
});

t.test('list: newest first, cursor pagination, q and status filters', async (t) => {
  const carol = await platform.token('carol');
  const ids = [];
  for (const title of ['red fox', 'blue whale', 'red panda']) ids.push(await upload(carol, { title, description: `a ${title}` }));
  for (const id of ids) await waitForVideo(platform.url, carol, id);
  const page1 = (await (await api('/v1/videos?limit=2', { token: carol })).json()) as { items: { id: string }[]; nextCursor: string };
  t.same(
    page1.items.map((v) => v.id),
    [ids[2], ids[1]],
  );
  const page2 = (await (await api(`/v1/videos?limit=2&cursor=${page1.nextCursor}`, { token: carol })).json()) as { items: { id: string }[]; nextCursor: null };
  t.same(
    page2.items.map((v) => v.id),
    [ids[0]],
  );
  t.equal(page2.nextCursor, null);
  const red = (await (await api('/v1/videos?q=red', { token: carol })).json()) as { items: { title: string }[] };
  t.same(red.items.map((v) => v.title).sort(), ['red fox', 'red panda']);
  const ready = (await (await api('/v1/videos?status=ready', { token: carol })).json()) as { items: unknown[] };
  t.equal(ready.items.length, 3);
  const failed = (await (await api('/v1/videos?status=failed', { token: carol })).json()) as { items: unknown[] };
  t.equal(failed.items.length, 0);
  t.equal((await api('/v1/videos?cursor=garbage', { token: carol })).status, 400);
});

t.test('live status as Server-Sent Events: progress, then ready', async (t) => {
  const id = await upload(alice);
  const res = await fetch(`${platform.url}/v1/videos/${id}/events?access_token=${alice}`);
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const text = await res.text(); // the stream ends after ready or failed
  const events = [...text.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => ({ event: m[1], data: JSON.parse(m[2] ?? '{}') }));
  t.equal(events[0]?.event, 'status');
  t.equal(events.at(-1)?.event, 'ready', `events: ${events.map((e) => e.event).join(',')}`);
  t.equal(events.at(-1)?.data.id, id);
  const other = await fetch(`${platform.url}/v1/videos/${id}/events?access_token=${bob}`);
  t.equal(other.status, 404, 'not for someone else’s private video');
});

t.test('private playback links work only as given, and not after they expire', async (t) => {
  const id = await upload(alice);
  const v = (await waitForVideo(platform.url, alice, id)) as unknown as { playback: { hls: string } };
  t.equal((await fetch(v.playback.hls)).status, 200);
  const stripped = v.playback.hls.split('?')[0] ?? '';
  const r1 = await fetch(stripped);
  t.equal(r1.status, 403);
  t.match(((await r1.json()) as { error: { message: string } }).error.message, /no token/);
  const forged = v.playback.hls.replace(/token=(\d+)\./, (_m, exp) => `token=${Number(exp) + 3600}.`);
  t.equal((await fetch(forged)).status, 403, 'a changed expiry breaks the signature');
  const expired = createPlayback({ secret: PLAYBACK_SECRET, ttlSec: 60, storage: storage(), baseUrl: '' }).token(id, Date.now() - 3600_000);
  const r2 = await fetch(`${stripped}?token=${expired}`);
  t.equal(r2.status, 403);
  t.match(((await r2.json()) as { error: { message: string } }).error.message, /expired/);
  const otherVideo = await upload(alice);
  const token = new URL(v.playback.hls).searchParams.get('token');
  t.equal((await fetch(`${platform.url}/v1/videos/${otherVideo}/hls/master.m3u8?token=${token}`)).status, 403, 'a link is bound to its video');
});

t.test('tokens from an identity provider (JWKS, ES256) are accepted; others are not', async (t) => {
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('dave').setIssuedAt().setExpirationTime('5m').sign(jwksKey);
  const list = await api('/v1/videos', { token });
  t.equal(list.status, 200);
  const { privateKey } = await generateKeyPair('ES256');
  const stranger = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('eve').setExpirationTime('5m').sign(privateKey);
  t.equal((await api('/v1/videos', { token: stranger })).status, 401);
  const expired = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setSubject('dave')
    .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
    .sign(jwksKey);
  t.equal((await api('/v1/videos', { token: expired })).status, 401);
});

t.test('OpenAPI is generated from the route schemas; docs are served', async (t) => {
  const spec = (await (await api('/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
  t.match(spec.openapi, /^3\./);
  for (const p of ['/v1/videos', '/v1/videos/{id}', '/v1/uploads', '/v1/uploads/{videoId}/complete', '/v1/videos/{id}/events', '/v1/health'])
    t.ok(spec.paths[p], p);
  const docs = await api('/docs/');
  t.equal(docs.status, 200);
  t.match(await docs.text(), /swagger/i);
});

t.test('writes are rate limited per caller', async (t) => {
  const frank = await platform.token('frank');
  const statuses: number[] = [];
  for (let i = 0; i < 45; i++) statuses.push((await api('/v1/uploads', { method: 'POST', token: frank, json: { size: 1 } })).status);
  t.ok(statuses.includes(429), `429 after ${statuses.indexOf(429)} writes`);
  const limited = await api('/v1/uploads', { method: 'POST', token: frank, json: { size: 1 } });
  t.equal(((await limited.json()) as { error: { code: string } }).error.code, 'rate_limited');
  t.equal((await api('/v1/uploads', { method: 'POST', token: alice, json: { size: 1 } })).status, 201, 'other callers are not affected');
});
