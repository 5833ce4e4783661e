import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage, keys } from '@reel/storage';
import { checkHls, makeClip, poll, settled, startTestPlatform, waitForVideo } from '@reel/stack';
import t from 'tap';
import { Upload } from 'tus-js-client';

// Resumable uploads with the real tus client: creation, an interrupted and resumed upload (1 MiB
// chunks: every PATCH leaves bytes under the 5 MiB part minimum held back), termination.
const dir = mkdtempSync(join(tmpdir(), 'reel-tus-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let alice: string;
t.before(async () => {
  platform = await startTestPlatform(t.teardown, { env: { MAX_UPLOAD_BYTES: String(40 * 1024 * 1024) } });
  alice = await platform.token('alice');
});

const count = async (prefix: string) => {
  const s = createStorage({ S3_SOURCE_BUCKET: 'reel-sources', S3_MEDIA_BUCKET: 'reel-media', S3_REGION: 'us-east-1', ...platform.env } as never);
  let n = 0;
  for await (const _ of s.client.listObjectsV2(s.sourceBucket, prefix, true)) n++;
  return n;
};

function start(file: Buffer, opts: { token: string; uploadUrl?: string; onProgress?: (sent: number, total: number) => void; title?: string; retry?: boolean }) {
  let resolveDone: (url: string) => void = () => {};
  let rejectDone: (err: Error) => void = () => {};
  const done = new Promise<string>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  const upload = new Upload(file, {
    endpoint: `${platform.url}/v1/tus`,
    ...(opts.uploadUrl ? { uploadUrl: opts.uploadUrl } : {}),
    headers: { authorization: `Bearer ${opts.token}` },
    metadata: { filename: 'holiday.mp4', title: opts.title ?? 'holiday' },
    chunkSize: 1024 * 1024,
    // a real client retries (it asks for the offset again); the interrupting run must not
    retryDelays: opts.retry ? [200, 500, 1000] : [],
    onProgress: opts.onProgress,
    onSuccess: () => resolveDone(upload.url ?? ''),
    onError: (err) => rejectDone(err),
  });
  upload.start();
  return { upload, done };
}

t.test('an interrupted upload resumes where it stopped, then the video is processed', async (t) => {
  const file = readFileSync(makeClip(dir, 'landscape', 12));
  t.ok(file.length > 3 * 1024 * 1024, `a ${(file.length / 1e6).toFixed(1)} MB file`);
  const first = start(file, {
    token: alice,
    onProgress: (sent) => {
      if (sent >= file.length / 3) void first.upload.abort();
    },
  });
  first.done.catch(() => {});
  const url = (await poll(() => first.upload.url, Boolean, { timeoutMs: 30_000, everyMs: 50 })) ?? '';
  t.match(url, /\/v1\/tus\/[0-9a-f-]{36}$/, 'the upload URL names the video');
  // the server finishes storing what the interrupted request carried; wait until the offset settles
  const headOffset = async () =>
    Number((await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${alice}`, 'tus-resumable': '1.0.0' } })).headers.get('upload-offset'));
  const offset = await settled(headOffset);
  t.ok(offset > 0 && offset < file.length, `the server kept ${offset} of ${file.length} bytes`);
  const videoId = url.split('/').pop() ?? '';
  const waiting = (await (await fetch(`${platform.url}/v1/videos/${videoId}`, { headers: { authorization: `Bearer ${alice}` } })).json()) as { status: string };
  t.equal(waiting.status, 'waiting_upload');
  let firstReported = -1;
  const resumed = start(file, {
    token: alice,
    uploadUrl: url,
    retry: true,
    onProgress: (sent) => {
      if (firstReported < 0) firstReported = sent;
    },
  });
  await resumed.done;
  t.ok(firstReported >= offset, `resumed from ${firstReported}, not from 0`);
  const v = await waitForVideo(platform.url, alice, videoId);
  t.equal(v.status, 'ready');
  t.equal(v.title, 'holiday');
  // it plays: every playlist and segment the master names is there
  const hls = await checkHls((v.playback as { hls?: string } | undefined)?.hls ?? '');
  t.ok(hls.playlists >= 1 && hls.segments >= hls.playlists, `${hls.playlists} playlists, ${hls.segments} segments`);
  t.same(hls.missing, [], 'nothing the master names is missing');
});

t.test('termination removes the upload and the video', async (t) => {
  const file = readFileSync(makeClip(dir, 'silent', 10));
  const u = start(file, {
    token: alice,
    onProgress: (sent) => {
      if (sent > 0) void u.upload.abort(true);
    },
  });
  u.done.catch(() => {});
  const deadline = Date.now() + 30_000;
  const videoId = ((await poll(() => u.upload.url, Boolean, { timeoutMs: 30_000, everyMs: 50 })) ?? '').split('/').pop() ?? '';
  let status = 0;
  while (Date.now() < deadline) {
    status = (await fetch(`${platform.url}/v1/videos/${videoId}`, { headers: { authorization: `Bearer ${alice}` } })).status;
    if (status === 404 && (await count(keys.sourcePrefix(videoId))) === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.equal(status, 404, 'the video is gone');
  t.equal(await count(keys.sourcePrefix(videoId)), 0, 'and its bytes');
});

t.test('an upload of unknown length: the length comes with the last PATCH', async (t) => {
  const h = { authorization: `Bearer ${alice}`, 'tus-resumable': '1.0.0' };
  const patch = (url: string, body: Buffer, offset: number, extra: Record<string, string> = {}) =>
    fetch(url, { method: 'PATCH', body, headers: { ...h, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream', ...extra } });
  const created = await fetch(`${platform.url}/v1/tus`, { method: 'POST', headers: { ...h, 'upload-defer-length': '1' } });
  t.equal(created.status, 201);
  const url = created.headers.get('location') ?? '';
  const bytes = randomBytes(1000);
  const first = await patch(url, bytes.subarray(0, 600), 0);
  t.equal(first.status, 204);
  t.equal(first.headers.get('upload-offset'), '600');
  const last = await patch(url, bytes.subarray(600), 600, { 'upload-length': '1000' });
  t.equal(last.status, 204);
  t.equal(last.headers.get('upload-offset'), '1000');
  const s = createStorage({ S3_SOURCE_BUCKET: 'reel-sources', S3_MEDIA_BUCKET: 'reel-media', S3_REGION: 'us-east-1', ...platform.env } as never);
  const stored = await s.getBytes(s.sourceBucket, keys.tusUpload(url.split('/').pop() ?? ''));
  t.ok(stored?.equals(bytes), 'the stored object is every byte');
});

t.test('tus needs a token, respects the size limit, and is the owner’s only', async (t) => {
  const anon = await fetch(`${platform.url}/v1/tus`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10' } });
  t.equal(anon.status, 401);
  const big = await fetch(`${platform.url}/v1/tus`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'tus-resumable': '1.0.0', 'upload-length': String(100 * 1024 * 1024) },
  });
  t.equal(big.status, 413);
  const created = await fetch(`${platform.url}/v1/tus`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'tus-resumable': '1.0.0', 'upload-length': '10' },
  });
  t.equal(created.status, 201);
  const bob = await platform.token('bob');
  const theft = await fetch(created.headers.get('location') ?? '', {
    method: 'PATCH',
    body: '0123456789',
    headers: { authorization: `Bearer ${bob}`, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
  });
  t.equal(theft.status, 404, 'bob cannot write into alice’s upload');
});
