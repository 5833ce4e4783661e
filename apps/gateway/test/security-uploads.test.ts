import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createStorage, keys, type Storage } from '@reel/storage';
import { startTestPlatform } from '@reel/stack';
import t from 'tap';
import { startUploadSweeper } from '../src/upload-sweeper.ts';

// The attacker's requests against uploads (issue 14: items 1, 4, 6, 7, 8, 12), as tests: each
// must be refused or harmless, and the gateway must stay up with its memory bounded.

const MiB = 1024 * 1024;
const LIMIT = 30 * MiB;
const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let token: string;
let storage: Storage;
let gatewayPid: number;

t.before(async () => {
  platform = await startTestPlatform(t.teardown, { env: { MAX_UPLOAD_BYTES: String(LIMIT), RATE_LIMIT_WRITES_PER_MIN: '10000' } });
  token = await platform.token('mallory');
  storage = createStorage({ S3_SOURCE_BUCKET: 'reel-sources', S3_MEDIA_BUCKET: 'reel-media', S3_REGION: 'us-east-1', ...platform.env } as never);
  gatewayPid = findGateway(platform.env.PORT ?? '');
});

/** The gateway's process: the apps run as children of this test, each with its own environment. */
function findGateway(port: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('apps/gateway/src/main.ts')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`PORT=${port}`)) return Number(entry);
    } catch {
      // gone meanwhile, or not ours
    }
  }
  throw new Error(`no gateway process listening on port ${port}`);
}

/** Resident memory of the gateway, in MiB. */
const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${gatewayPid}/status`, 'utf8'))?.[1]) / 1024;

const healthy = async () => (await fetch(`${platform.url}/v1/health`)).status === 200;

/** Keys of the multipart uploads open in the source bucket (listed without minio's `delimiter=`, which Swift mishandles). */
async function openUploadKeys(): Promise<string[]> {
  const res = await storage.client.makeRequestAsync({ method: 'GET', bucketName: storage.sourceBucket, query: 'uploads' });
  let xml = '';
  for await (const c of res) xml += c;
  return [...xml.matchAll(/<Upload><Key>([^<]*)<\/Key>/g)].map((m) => m[1] ?? '');
}
const openUploads = async () => (await openUploadKeys()).length;

async function objectsUnder(prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of storage.client.listObjectsV2(storage.sourceBucket, prefix, true)) n++;
  return n;
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(200);
  }
}

const BOUNDARY = 'reel-attack-boundary';
const fileHead = Buffer.from(
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
);

/** A raw HTTP/1.1 request on its own socket, so the test can cut it off or stream it forever. */
function open(head: string): Promise<{ sock: Socket; response: Promise<string> }> {
  const { port } = new URL(platform.url);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port: Number(port) }, () => {
      sock.write(head);
      let text = '';
      const response = new Promise<string>((res) => {
        sock.on('data', (d) => {
          text += d.toString('latin1');
        });
        sock.on('close', () => res(text));
        sock.on('error', () => {});
      });
      resolve({ sock, response });
    });
    sock.once('error', reject);
  });
}

const write = (sock: Socket, data: Buffer) =>
  new Promise<void>((resolve, reject) => {
    if (sock.destroyed) return reject(new Error('closed'));
    sock.write(data, (err) => (err ? reject(err) : resolve()));
  });

const uploadHead = (extra: string) =>
  `POST /v1/videos HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\n${extra}\r\n`;

t.test('uploads cut off after 1 MiB, three rounds of 100: the gateway stays up, its memory stays bounded, nothing is left in storage', async (t) => {
  const before = await objectsUnder('sources/');
  // the attack of the issue: 1 MiB of the file, then the socket is destroyed, 100 in a row; every
  // tenth sends 10 MiB, past the first 8 MiB part, so a multipart upload is open when it goes
  const oneAbort = async (n: number) => {
    const { sock } = await open(uploadHead(`Content-Length: ${20 * MiB}\r\n`));
    await write(sock, fileHead);
    const blocks = n % 10 === 9 ? 160 : 16;
    for (let i = 0; i < blocks; i++) await write(sock, randomBytes(64 * 1024));
    sock.destroy();
  };
  const round = async () => {
    let peak = rss();
    for (let i = 0; i < 100; i++) {
      await oneAbort(i);
      peak = Math.max(peak, rss());
    }
    await eventually('every multipart upload aborted', async () => (await openUploads()) === 0);
    return peak;
  };
  const cold = rss();
  // the baseline is a gateway that has taken uploads before: the first few grow the allocator's
  // working set (buffers freed by the GC are kept by malloc for reuse), a one-off
  for (let i = 0; i < 10; i++) await oneAbort(9);
  await eventually('warm-up uploads aborted', async () => (await openUploads()) === 0);
  const baseline = rss();
  const peak1 = await round();
  const after1 = rss();
  t.ok(await healthy(), 'GET /v1/health answers 200 after 100 aborted uploads');
  t.equal(await objectsUnder('sources/'), before, 'no object and no multipart upload left by an aborted upload');
  // two more rounds show whether anything is kept per upload: a leak grows with every round, a
  // high-water mark does not. (The GC's timing moves RSS by some tens of MiB either way: 600 aborts
  // in a row measured flat, 208–246 MiB; CI has seen one round of 100 grow +75 MiB and the next
  // +3. A leak of 1 MiB per upload would be +100 in every round.)
  const peak2 = await round();
  const after2 = rss();
  const peak3 = await round();
  await sleep(2000);
  const after3 = rss();
  t.comment(
    `gateway RSS (MiB): cold ${cold.toFixed(0)}, after 10 uploads ${baseline.toFixed(0)}, round 1 peak ${peak1.toFixed(0)} → ${after1.toFixed(0)}, round 2 peak ${peak2.toFixed(0)} → ${after2.toFixed(0)}, round 3 peak ${peak3.toFixed(0)} → ${after3.toFixed(0)}`,
  );
  const growth = [after1 - baseline, after2 - after1, after3 - after2];
  t.ok(
    Math.min(...growth) < 64,
    `not growing with every upload: rounds of 100 grew ${growth.map((g) => g.toFixed(0)).join(', ')} MiB (a leak of 1 MiB each would be 100 every round)`,
  );
  t.ok(after3 < baseline + 200, `bounded: ${(after3 - baseline).toFixed(0)} MiB above its warm baseline after 300 aborts (a leak of 1 MiB each would be 300)`);
  t.ok(await healthy());
});

t.test('an oversize chunked upload is refused as soon as it passes the limit, not read to its end', async (t) => {
  const { sock, response } = await open(uploadHead('Transfer-Encoding: chunked\r\n'));
  const chunk = (data: Buffer) => Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
  let sent = 0;
  const started = Date.now();
  try {
    await write(sock, chunk(fileHead));
    const block = randomBytes(256 * 1024);
    // up to 4× the limit, as fast as the gateway takes it
    while (sent < 4 * LIMIT && !sock.destroyed) {
      await write(sock, chunk(block));
      sent += block.length;
    }
    sock.end();
  } catch {
    // the gateway closed the connection: that is the point
  }
  const answer = await Promise.race([response, sleep(15_000).then(() => 'no answer')]);
  sock.destroy();
  t.comment(`sent ${(sent / MiB).toFixed(1)} MiB against a ${LIMIT / MiB} MiB limit before the gateway stopped reading (${Date.now() - started} ms)`);
  t.ok(sent < LIMIT + 24 * MiB, 'the gateway stopped reading soon after the limit');
  if (answer) t.match(answer, /^HTTP\/1\.1 413/, 'answered 413 when the answer got through');
  t.ok(await healthy());
  await eventually('its multipart upload aborted', async () => (await openUploads()) === 0);
});

t.test('malformed multipart is a 400, not a 500', async (t) => {
  const noBoundary = await fetch(`${platform.url}/v1/videos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data' },
    body: 'hello',
  });
  t.equal(noBoundary.status, 400, 'no boundary');
  t.equal(((await noBoundary.json()) as { error: { code: string } }).error.code, 'bad_request');
  const cut = Buffer.concat([fileHead, randomBytes(100_000)]);
  const midPart = await fetch(`${platform.url}/v1/videos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body: cut,
  });
  t.equal(midPart.status, 400, 'body ending mid-part');
  t.equal(((await midPart.json()) as { error: { code: string } }).error.code, 'bad_request');
  t.ok(await healthy());
});

t.test('130 concurrent HEADs on one tus upload are answered quickly, with bounded memory', async (t) => {
  const created = await fetch(`${platform.url}/v1/tus`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-length': String(10 * MiB) },
  });
  t.equal(created.status, 201);
  const url = created.headers.get('location') ?? '';
  const head = (u: string) => fetch(u, { method: 'HEAD', headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' } });
  t.equal((await head(url)).status, 200);
  const baseline = rss();
  const started = Date.now();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 50);
  const statuses = await Promise.all(Array.from({ length: 130 }, () => head(url).then((r) => r.status)));
  const took = Date.now() - started;
  clearInterval(sampler);
  const tally: Record<number, number> = {};
  for (const s of statuses) tally[s] = (tally[s] ?? 0) + 1;
  t.comment(`130 HEADs in ${took} ms: ${JSON.stringify(tally)}; gateway RSS ${baseline.toFixed(0)} → peak ${peak.toFixed(0)} MiB`);
  t.ok(took < 10_000, 'all answered within 10 s');
  t.ok(
    statuses.every((s) => s === 200 || s === 423 || s === 429),
    'each answered or refused (200, 423 locked, 429 rate limited), never a 500',
  );
  t.ok((tally[200] ?? 0) > 0, 'some were served');
  t.ok(peak - baseline < 100, `memory grew by ${(peak - baseline).toFixed(0)} MiB`);
  const unknown = Date.now();
  t.equal((await head(`${platform.url}/v1/tus/00000000-0000-4000-8000-000000000000`)).status, 404);
  t.ok(Date.now() - unknown < 1000, 'a HEAD on an unknown id is cheap');
  t.ok(await healthy());
});

/** POST /v1/uploads for `size` bytes: the video id and its presigned PUT. */
async function directUpload(size: number): Promise<{ videoId: string; url: string }> {
  const res = await fetch(`${platform.url}/v1/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'direct', size }),
  });
  if (res.status !== 201) throw new Error(`POST /v1/uploads answered ${res.status}`);
  return (await res.json()) as { videoId: string; url: string };
}

t.test('a direct PUT of another size than declared is refused by storage', async (t) => {
  const { videoId, url } = await directUpload(1000);
  const over = await fetch(url, { method: 'PUT', body: randomBytes(1001) });
  t.equal(over.status, 403, 'one byte over the declared size');
  const huge = await fetch(url, { method: 'PUT', body: randomBytes(LIMIT + 1) });
  t.equal(huge.status, 403, 'more than the limit');
  t.equal(await objectsUnder(keys.sourcePrefix(videoId)), 0, 'nothing stored');
});

t.test('a PUT after /complete does not change what the pipeline reads', async (t) => {
  const original = randomBytes(4096);
  const { videoId, url } = await directUpload(original.length);
  t.equal((await fetch(url, { method: 'PUT', body: original })).status, 200);
  await eventually(
    'the catalog knows the video',
    async () => (await fetch(`${platform.url}/v1/videos/${videoId}`, { headers: { authorization: `Bearer ${token}` } })).ok,
  );
  const done = await fetch(`${platform.url}/v1/uploads/${videoId}/complete`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  t.equal(done.status, 202);
  const swapped = randomBytes(original.length);
  await fetch(url, { method: 'PUT', body: swapped });
  const chunks: Buffer[] = [];
  for await (const c of await storage.client.getObject(storage.sourceBucket, keys.source(videoId))) chunks.push(c as Buffer);
  t.equal(sha256(Buffer.concat(chunks)), sha256(original), 'the source the pipeline reads is the completed upload');
});

t.test('the sweeper aborts a multipart upload a dead gateway left open, and keeps a resumable one', async (t) => {
  const c = storage.client;
  const orphan = keys.source('11111111-1111-4111-8111-111111111111');
  const resumable = keys.tusUpload('22222222-2222-4222-8222-222222222222');
  await c.initiateNewMultipartUpload(storage.sourceBucket, orphan, {});
  await c.initiateNewMultipartUpload(storage.sourceBucket, resumable, {});
  const logged: object[] = [];
  const log = { debug() {}, info: (o: object) => logged.push(o), warn: (o: object) => logged.push(o), error: (o: object) => logged.push(o), child: () => log };
  const sweeper = startUploadSweeper({ storage, log, intervalMs: 200, olderThanMs: 0 });
  t.teardown(() => sweeper.stop());
  await eventually('the orphan aborted', async () => !(await openUploadKeys()).includes(orphan));
  await sweeper.stop();
  t.ok((await openUploadKeys()).includes(resumable), 'the resumable upload is still open');
  t.match(logged, [{ streamed: 1, resumable: 0 }], 'and the sweep is logged');
});
