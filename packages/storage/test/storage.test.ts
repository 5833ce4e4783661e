import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { startS3Server } from '../../stack/src/s3-server.ts';
import { createStorage, isStorageUnavailableError, type Storage } from '../src/mod.ts';

const MiB = 1024 * 1024;
const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

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
