import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { freePort } from '../../stack/src/ports.ts';
import { startS3Server } from '../../stack/src/s3-server.ts';
import { createStorage, isStorageUnavailableError, keys, SourceEndedError, type Storage } from '../src/mod.ts';

const MiB = 1024 * 1024;
const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

/** A stream of `buf` cut into 64 KiB chunks, as a socket would deliver it; fails after `failAfter` bytes if set. */
function source(buf: Buffer, failAfter?: number): Readable {
  let off = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && off >= failAfter) {
        this.destroy(Object.assign(new Error('client went away'), { code: 'ECONNRESET' }));
        return;
      }
      if (off >= buf.length) {
        this.push(null);
        return;
      }
      this.push(buf.subarray(off, off + 64 * 1024));
      off += 64 * 1024;
    },
  });
}

async function readObject(storage: Storage, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await storage.client.getObject(storage.sourceBucket, key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const dir = mkdtempSync(join(tmpdir(), 'reel-storage-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const port = await freePort();
let server = await startS3Server({ dir, port });
t.teardown(() => server.stop());
const cfg = {
  S3_ENDPOINT: server.endpoint,
  S3_REGION: server.region,
  S3_ACCESS_KEY: server.accessKey,
  S3_SECRET_KEY: server.secretKey,
  S3_SOURCE_BUCKET: 'reel-sources',
  S3_MEDIA_BUCKET: 'reel-media',
};
// 5 MiB: the smallest part S3 (and Swift's s3api) accepts
const storage = createStorage(cfg, { partSize: 5 * MiB, partsInFlight: 3, retryBudgetMs: 20_000 });
await storage.ensureBuckets();

t.test('a stream of several parts is stored byte for byte', async (t) => {
  const data = randomBytes(17 * MiB + 123);
  const stored = await storage.putStream(storage.sourceBucket, 'multi/object', source(data), 'video/mp4');
  t.equal(stored, data.length);
  t.equal(sha256(await readObject(storage, 'multi/object')), sha256(data));
  t.equal((await storage.client.statObject(storage.sourceBucket, 'multi/object')).metaData['content-type'], 'video/mp4');
  t.equal(await storage.abortStaleUploads(storage.sourceBucket, 0), 0, 'no multipart upload left open');
});

t.test('media objects say how long a cache may keep them: segments and images for good, playlists for 2 s', async (t) => {
  const id = '6f1c2d3e-4a5b-4c7d-8e9f-0a1b2c3d4e5f';
  const file = join(dir, 'segment.ts');
  writeFileSync(file, 'segment bytes');
  await storage.putFile(storage.mediaBucket, keys.segment(id, '360p', 0, 0), file, 'video/mp2t');
  await storage.putFile(storage.mediaBucket, keys.poster(id), file, 'image/jpeg');
  await storage.putText(storage.mediaBucket, keys.mediaPlaylist(id, '360p'), '#EXTM3U\n', 'application/vnd.apple.mpegurl');
  await storage.putText(storage.sourceBucket, keys.chunkManifest(id, 0), '{}', 'application/json');
  // as a player (or a CDN) reads them: through the S3 server's own answer
  const cacheOf = async (bucket: string, key: string) => (await fetch(await storage.presignGet(bucket, key, 60))).headers.get('cache-control');
  t.equal(await cacheOf(storage.mediaBucket, keys.segment(id, '360p', 0, 0)), 'public, max-age=31536000, immutable');
  t.equal(await cacheOf(storage.mediaBucket, keys.poster(id)), 'public, max-age=31536000, immutable');
  t.equal(await cacheOf(storage.mediaBucket, keys.mediaPlaylist(id, '360p')), 'public, max-age=2');
  t.equal(await cacheOf(storage.sourceBucket, keys.chunkManifest(id, 0)), null, 'work files carry nothing');
});

t.test('less than a part is one PutObject; an empty stream is an empty object', async (t) => {
  const small = randomBytes(MiB);
  t.equal(await storage.putStream(storage.sourceBucket, 'small', source(small)), small.length);
  t.equal(sha256(await readObject(storage, 'small')), sha256(small));
  const exact = randomBytes(5 * MiB);
  t.equal(await storage.putStream(storage.sourceBucket, 'exact', source(exact)), exact.length);
  t.equal(sha256(await readObject(storage, 'exact')), sha256(exact));
  t.equal(await storage.putStream(storage.sourceBucket, 'empty', Readable.from([])), 0);
  t.equal(await storage.size(storage.sourceBucket, 'empty'), 0);
});

t.test('an error of the source rejects, and leaves no object and no incomplete upload', async (t) => {
  const data = randomBytes(30 * MiB);
  const err = await storage.putStream(storage.sourceBucket, 'broken', source(data, 16 * MiB)).then(
    () => undefined,
    (e: unknown) => e as { code?: string },
  );
  t.equal(err?.code, 'ECONNRESET', 'the source error itself');
  t.notOk(isStorageUnavailableError(err), 'not blamed on storage');
  t.equal(await storage.size(storage.sourceBucket, 'broken'), undefined);
  t.equal(await storage.abortStaleUploads(storage.sourceBucket, 0), 0, 'the upload was aborted at once');
});

t.test('appendParts: a multipart upload kept open across requests, short remainders held back', async (t) => {
  const data = randomBytes(44 * MiB);
  // the default part size, 8 MiB
  const storage = createStorage(cfg, { retryBudgetMs: 20_000 });
  t.equal(storage.partSize, 8 * MiB);
  const upload = await storage.startMultipart(storage.sourceBucket, 'resumable/object');
  const notLast = () => false;
  // 20 MiB: two 8 MiB parts; the 4 MiB after them is under the 5 MiB minimum and comes back
  const one = await storage.appendParts(upload, 1, source(data.subarray(0, 20 * MiB)), { isLast: notLast });
  t.same(
    one.parts.map((p) => [p.part, p.size]),
    [
      [1, 8 * MiB],
      [2, 8 * MiB],
    ],
  );
  t.equal(one.received, 20 * MiB);
  t.equal(one.held.length, 4 * MiB, '4 MiB held back');
  // the held bytes first, then 10 MiB: one 8 MiB part and a 6 MiB one (at least 5 MiB: sent)
  const two = await storage.appendParts(upload, 3, source(data.subarray(20 * MiB, 30 * MiB)), { prefix: one.held, isLast: notLast });
  t.same(
    two.parts.map((p) => [p.part, p.size]),
    [
      [3, 8 * MiB],
      [4, 6 * MiB],
    ],
  );
  t.equal(two.held.length, 0);
  // the end: 14 MiB, an 8 MiB part and the short last one
  const three = await storage.appendParts(upload, 5, source(data.subarray(30 * MiB)), { isLast: (received) => received === 14 * MiB });
  t.same(
    three.parts.map((p) => p.size),
    [8 * MiB, 6 * MiB],
  );
  await storage.completeMultipart(upload, [...one.parts, ...two.parts, ...three.parts]);
  t.equal(sha256(await readObject(storage, 'resumable/object')), sha256(data), 'the object is every byte, in order');
  const empty = await storage.startMultipart(storage.sourceBucket, 'resumable/aborted');
  await storage.abortMultipart(empty);
  await storage.abortMultipart(empty);
  t.pass('aborting twice is no error');
});

t.test('abortStaleUploads aborts only uploads older than asked', async (t) => {
  const c = storage.client;
  const id = await c.initiateNewMultipartUpload(storage.sourceBucket, 'left/behind', {});
  await c.uploadPart({ bucketName: storage.sourceBucket, objectName: 'left/behind', uploadID: id, partNumber: 1, headers: {} }, randomBytes(MiB));
  t.equal(await storage.abortStaleUploads(storage.sourceBucket, 3_600_000), 0, 'a fresh upload is kept');
  t.equal(await storage.abortStaleUploads(storage.sourceBucket, 0), 1);
  t.equal(await storage.abortStaleUploads(storage.sourceBucket, 0), 0, 'and it is gone');
});

t.test('a presigned PUT with a signed length refuses any other length', async (t) => {
  const url = await storage.presignPut(storage.sourceBucket, 'sized', 600, 1000);
  const over = await fetch(url, { method: 'PUT', body: randomBytes(1001) });
  t.equal(over.status, 403, 'one byte more is refused');
  const under = await fetch(url, { method: 'PUT', body: randomBytes(999) });
  t.equal(under.status, 403, 'one byte less is refused');
  t.equal(await storage.size(storage.sourceBucket, 'sized'), undefined);
  const ok = await fetch(url, { method: 'PUT', body: randomBytes(1000) });
  t.equal(ok.status, 200, await ok.text());
  t.equal(await storage.size(storage.sourceBucket, 'sized'), 1000);
});

t.test('copy and remove', async (t) => {
  await storage.putText(storage.sourceBucket, 'from', 'hello', 'text/plain');
  await storage.copy(storage.sourceBucket, 'from', 'to');
  await storage.remove(storage.sourceBucket, 'from');
  t.equal(await storage.getText(storage.sourceBucket, 'to'), 'hello');
  t.equal(await storage.size(storage.sourceBucket, 'from'), undefined);
  await storage.remove(storage.sourceBucket, 'from');
});

t.test('calls ride out storage being down for a few seconds; a short budget fails fast with StorageUnavailableError', async (t) => {
  const data = randomBytes(12 * MiB);
  await server.stop();
  const impatient = createStorage(cfg, { retryBudgetMs: 0 });
  const started = Date.now();
  const err = await impatient.size(impatient.sourceBucket, 'to').catch((e: unknown) => e);
  t.ok(isStorageUnavailableError(err), `StorageUnavailableError (${(err as Error).message})`);
  t.ok(Date.now() - started < 1000, 'at once');

  const text = storage.getText(storage.sourceBucket, 'to');
  const upload = storage.putStream(storage.sourceBucket, 'during-outage', source(data));
  await new Promise((r) => setTimeout(r, 3000));
  server = await startS3Server({ dir, port });
  t.equal(await text, 'hello');
  t.equal(await upload, data.length);
  t.equal(sha256(await readObject(storage, 'during-outage')), sha256(data));
});

t.test('with the length known, parts are streamed as they arrive; a body cut short keeps only the parts before', async (t) => {
  const storage = createStorage(cfg, { retryBudgetMs: 20_000, streamedPartSize: 12 * MiB });
  const data = randomBytes(40 * MiB + 777);
  // exact: 12 + 12 + 16.x MiB (no short part after a streamed one when the rest is sure to follow)
  t.equal(await storage.putStream(storage.sourceBucket, 'streamed', source(data), 'video/mp4', (consumed) => data.length - consumed), data.length);
  t.equal(sha256(await readObject(storage, 'streamed')), sha256(data));
  // a lower bound 1 MiB short of the truth (a form's fields may follow the file): the rest is buffered
  t.equal(await storage.putStream(storage.sourceBucket, 'bounded', source(data), undefined, (consumed) => data.length - MiB - consumed), data.length);
  t.equal(sha256(await readObject(storage, 'bounded')), sha256(data));
  // a body that promised more than it brings: rejected, nothing left behind
  const short = await storage
    .putStream(storage.sourceBucket, 'short', source(data), undefined, (consumed) => data.length + MiB - consumed)
    .catch((e: unknown) => e);
  t.type(short, SourceEndedError);
  t.equal(await storage.size(storage.sourceBucket, 'short'), undefined);
  t.equal(await storage.abortStaleUploads(storage.sourceBucket, 0), 0, 'its multipart upload was aborted');

  // a resumable upload: 3 MiB held from before, then a request announcing 30 MiB that brings 26
  const upload = await storage.startMultipart(storage.sourceBucket, 'resumable/streamed');
  const held = data.subarray(0, 3 * MiB);
  const announced = 30 * MiB;
  const cut = await storage.appendParts(upload, 1, source(data.subarray(3 * MiB, 29 * MiB)), {
    prefix: held,
    isLast: () => false,
    remaining: (consumed) => announced - consumed,
  });
  t.same(
    cut.parts.map((p) => [p.part, p.size]),
    [
      [1, 12 * MiB],
      [2, 12 * MiB],
    ],
    'the held bytes went first; the part the body cut short was not sent',
  );
  t.equal(cut.received, 21 * MiB, 'of the body, what the two parts hold');
  t.equal(cut.held.length, 0);
  // the client resumes from there, to the end
  const rest = data.subarray(24 * MiB);
  const end = await storage.appendParts(upload, 3, source(rest), { isLast: (r) => r === rest.length, remaining: (consumed) => rest.length - consumed });
  t.same(
    end.parts.map((p) => p.size),
    [rest.length],
  );
  await storage.completeMultipart(upload, [...cut.parts, ...end.parts]);
  t.equal(sha256(await readObject(storage, 'resumable/streamed')), sha256(data), 'the object is every byte, in order');
});

t.test('appendParts with early: resolves once every byte is sent, the last parts answered later; ListParts lists them', async (t) => {
  const data = randomBytes(36 * MiB);
  const upload = await storage.startMultipart(storage.sourceBucket, 'resumable/early');
  // streamed: what is sure goes as one part (no split: nobody waits for its answer)
  const streamed = await storage.appendParts(upload, 1, source(data.subarray(0, 20 * MiB)), {
    isLast: () => false,
    remaining: (consumed) => 20 * MiB - consumed,
    early: true,
  });
  t.equal(streamed.received, 20 * MiB);
  t.same(streamed.unanswered?.parts, [{ part: 1, size: 20 * MiB }], 'its one part, sent, its answer not awaited');
  t.same(streamed.parts, [], 'no part counted as answered before its answer');
  const first = (await streamed.unanswered?.answers) ?? [];
  t.same(
    first.map((p) => [p.part, p.size]),
    [[1, 20 * MiB]],
    'the answer comes after',
  );
  // buffered (no length known), in parts of partSize: whatever is unanswered at the end comes back unanswered, the rest as parts
  const buffered = await storage.appendParts(upload, 2, source(data.subarray(20 * MiB)), { isLast: (r) => r === 16 * MiB, early: true });
  const cuts = [5 * MiB, 5 * MiB, 5 * MiB, MiB];
  t.equal(storage.partSize, 5 * MiB);
  const rest = [...buffered.parts, ...((await buffered.unanswered?.answers) ?? [])];
  t.same(
    rest.map((p) => [p.part, p.size]).sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0)),
    cuts.map((size, k) => [2 + k, size]),
    'each part either answered or unanswered, none twice',
  );
  t.same(
    (await storage.listParts(upload)).map((p) => [p.part, p.size]),
    [[1, 20 * MiB], ...cuts.map((size, k) => [2 + k, size])],
    'ListParts: the parts S3 holds',
  );
  await storage.completeMultipart(upload, [...first, ...rest]);
  t.equal(sha256(await readObject(storage, 'resumable/early')), sha256(data), 'the object is every byte, in order');
});
