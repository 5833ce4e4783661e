import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage } from '@reel/storage';
import { BAD_INPUTS, makeBadInput, makeClip, startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import t from 'tap';

// Bad input gets a clear error and loses nothing; no video is ever left "processing".
const LIMIT = 5 * 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'reel-bad-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let alice: string;

t.before(async () => {
  platform = await startTestPlatform(t.teardown, { env: { MAX_UPLOAD_BYTES: String(LIMIT) } });
  alice = await platform.token('alice');
});

const sourcesStored = async () => {
  const storage = createStorage({ S3_SOURCE_BUCKET: 'reel-sources', S3_MEDIA_BUCKET: 'reel-media', S3_REGION: 'us-east-1', ...platform.env } as never);
  let n = 0;
  for await (const _ of storage.client.listObjectsV2(storage.sourceBucket, 'sources/', true)) n++;
  return n;
};

for (const [name, { code }] of Object.entries(BAD_INPUTS)) {
  t.test(`${name} ends failed with code ${code}, within seconds`, async (t) => {
    const started = Date.now();
    const res = await uploadFile(platform.url, alice, makeBadInput(dir, name as keyof typeof BAD_INPUTS));
    t.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    const video = (await waitForVideo(platform.url, alice, id, ['failed', 'ready'], 30_000)) as unknown as {
      status: string;
      error?: { code: string; message: string };
    };
    const seconds = (Date.now() - started) / 1000;
    t.equal(video.status, 'failed');
    t.equal(video.error?.code, code, video.error?.message ?? 'no error');
    t.ok((video.error?.message ?? '').length > 10, `says why: "${video.error?.message}"`);
    t.ok(seconds < 20, `failed after ${seconds.toFixed(1)} s`);
  });
}

t.test('no worker crashed: every service still answers', async (t) => {
  const health = (await (await fetch(`${platform.url}/v1/health`)).json()) as { status: string };
  t.equal(health.status, 'ok');
});

t.test('an upload over MAX_UPLOAD_BYTES is refused with 413 and nothing is stored', async (t) => {
  const before = await sourcesStored();
  const big = join(dir, 'big.mp4');
  writeFileSync(big, Buffer.alloc(LIMIT + 1024 * 1024, 7));
  const res = await uploadFile(platform.url, alice, big);
  t.equal(res.status, 413);
  const body = (await res.json()) as { error: { code: string; message: string } };
  t.equal(body.error.code, 'too_large');
  t.match(body.error.message, /limit/);
  t.equal(await sourcesStored(), before, 'no object was kept');
});

t.test('requests without a valid token are refused with 401', async (t) => {
  const clip = makeClip(dir, 'silent', 1);
  const none = await uploadFile(platform.url, undefined, clip);
  t.equal(none.status, 401);
  t.equal(((await none.json()) as { error: { code: string } }).error.code, 'unauthorized');
  const forged = await uploadFile(platform.url, `${alice.slice(0, -4)}AAAA`, clip);
  t.equal(forged.status, 401);
  t.match(((await forged.json()) as { error: { message: string } }).error.message, /invalid token/);
  const list = await fetch(`${platform.url}/v1/videos`);
  t.equal(list.status, 401);
});

t.test('a form without a file, or a body that is not multipart, says why', async (t) => {
  const form = new FormData();
  form.set('title', 'no file');
  const noFile = await fetch(`${platform.url}/v1/videos`, { method: 'POST', body: form, headers: { authorization: `Bearer ${alice}` } });
  t.equal(noFile.status, 400);
  t.match(((await noFile.json()) as { error: { message: string } }).error.message, /"file"/);
  const json = await fetch(`${platform.url}/v1/videos`, {
    method: 'POST',
    body: '{"title": "oops"',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
  });
  t.ok([400, 415].includes(json.status), `malformed JSON gets ${json.status}`);
  t.ok(((await json.json()) as { error: { code: string } }).error.code);
});

t.test('an unknown id, or another user’s private video, is 404', async (t) => {
  const unknown = await fetch(`${platform.url}/v1/videos/00000000-0000-4000-8000-000000000000`, { headers: { authorization: `Bearer ${alice}` } });
  t.equal(unknown.status, 404);
  t.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'not_found');
  const garbage = await fetch(`${platform.url}/v1/videos/not-an-id`, { headers: { authorization: `Bearer ${alice}` } });
  t.equal(garbage.status, 404);
  const res = await uploadFile(platform.url, alice, makeClip(dir, 'silent', 1), { title: 'private' });
  const { id } = (await res.json()) as { id: string };
  await waitForVideo(platform.url, alice, id, ['ready', 'failed', 'processing']);
  const bob = await platform.token('bob');
  const other = await fetch(`${platform.url}/v1/videos/${id}`, { headers: { authorization: `Bearer ${bob}` } });
  t.equal(other.status, 404, 'bob cannot see it');
  const anonymous = await fetch(`${platform.url}/v1/videos/${id}`);
  t.equal(anonymous.status, 404, 'nor can anyone without a token');
  const bobs = (await (await fetch(`${platform.url}/v1/videos`, { headers: { authorization: `Bearer ${bob}` } })).json()) as { items: unknown[] };
  t.equal(bobs.items.length, 0, 'it is not in bob’s list');
});
