import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { Client } from 'minio';
import t from 'tap';
import { poll } from '@reel/testing';
import { startS3Server } from '../src/s3-server.ts';

const MiB = 1024 * 1024;

const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** An S3 client of `server`, path-style as the platform talks to it. */
function clientOf(server: { endpoint: string; accessKey: string; secretKey: string; region: string }, opts: { partSize?: number } = {}): Client {
  const u = new URL(server.endpoint);
  return new Client({
    endPoint: u.hostname,
    port: Number(u.port),
    useSSL: false,
    accessKey: server.accessKey,
    secretKey: server.secretKey,
    region: server.region,
    pathStyle: true,
    ...opts,
  });
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port }, () => {
      sock.end();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Every port the server's configs name: the proxy and the three backends. */
function configuredPorts(dir: string): number[] {
  return ['proxy', 'account', 'container', 'object'].map((kind) => {
    const conf = readFileSync(join(dir, 'etc', `${kind}-server.conf`), 'utf8');
    return Number(/^bind_port = (\d+)$/m.exec(conf)?.[1]);
  });
}

/** Processes whose command line mentions `dir` (the server is started with its etc path). */
function processesFor(dir: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((line) => line.includes(dir) && !line.includes('ps -eo'));
}

function tempDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 's3-server-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('minio client against the Swift S3 server', async (t) => {
  const dir = tempDir(t);
  const started = Date.now();
  const s3 = await startS3Server({ dir, log: (line) => t.comment(line) });
  t.comment(`started in ${Date.now() - started} ms at ${s3.endpoint}`);
  t.teardown(() => s3.stop());
  const url = new URL(s3.endpoint);
  t.equal(url.hostname, '127.0.0.1');
  t.equal(s3.region, 'us-east-1');

  const client = clientOf(s3, { partSize: 5 * MiB });
  const bucket = 'reel-test';
  await client.makeBucket(bucket, s3.region);
  t.ok(await client.bucketExists(bucket), 'bucket exists');

  // ~12 MiB from a stream of unknown size: 5 MiB parts, so a 3-part multipart upload
  const big = randomBytes(12 * MiB + 12345);
  const source = Readable.from(
    (function* () {
      for (let off = 0; off < big.length; off += 256 * 1024) yield big.subarray(off, off + 256 * 1024);
    })(),
    { objectMode: false },
  );
  const put = await client.putObject(bucket, 'videos/big.bin', source, undefined, { 'Content-Type': 'application/octet-stream' });
  t.match(put.etag, /-3$/, 'multipart etag (3 parts)');

  const stat = await client.statObject(bucket, 'videos/big.bin');
  t.equal(stat.size, big.length, 'statObject size');
  t.equal(stat.metaData['content-type'], 'application/octet-stream', 'content type kept');

  const got = await readAll(await client.getObject(bucket, 'videos/big.bin'));
  t.equal(sha256(got), sha256(big), 'getObject sha256 matches');

  // presigned GET with a Range header (what a browser player does)
  const getUrl = await client.presignedGetObject(bucket, 'videos/big.bin', 600);
  const ranged = await fetch(getUrl, { headers: { Range: 'bytes=6000000-6099999', Origin: 'http://localhost:5173' } });
  t.equal(ranged.status, 206, 'ranged GET is partial content');
  t.equal(ranged.headers.get('content-range'), `bytes 6000000-6099999/${big.length}`);
  t.match(ranged.headers.get('access-control-allow-origin'), /^(\*|http:\/\/localhost:5173)$/, 'CORS on GET');
  const slice = Buffer.from(await ranged.arrayBuffer());
  t.equal(sha256(slice), sha256(big.subarray(6000000, 6100000)), 'range bytes match');

  // presigned PUT from "a browser": preflight, then the upload
  const small = Buffer.from(`hello from a presigned PUT ${Date.now()}\n`);
  const putUrl = await client.presignedPutObject(bucket, 'uploads/hello.txt', 600);
  const preflight = await fetch(putUrl, {
    method: 'OPTIONS',
    headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
  });
  t.equal(preflight.status, 200, 'CORS preflight allowed');
  t.ok(preflight.headers.get('access-control-allow-origin'), 'preflight allow-origin');
  t.match(preflight.headers.get('access-control-allow-methods') ?? '', /PUT/, 'preflight allows PUT');
  const uploaded = await fetch(putUrl, { method: 'PUT', body: small, headers: { Origin: 'http://localhost:5173' } });
  t.equal(uploaded.status, 200, 'presigned PUT');
  t.ok(uploaded.headers.get('etag'), 'PUT returns an ETag');
  t.match(uploaded.headers.get('access-control-expose-headers') ?? '', /etag/i, 'ETag exposed to browsers');
  const readBack = await readAll(await client.getObject(bucket, 'uploads/hello.txt'));
  t.same(readBack, small, 'presigned PUT reads back');

  for (const name of ['a', 'b', 'c']) await client.putObject(bucket, `many/${name}.txt`, Buffer.from(name));

  const listed: string[] = [];
  for await (const item of client.listObjectsV2(bucket, '', true)) if (item.name) listed.push(item.name);
  t.same(listed.sort(), ['many/a.txt', 'many/b.txt', 'many/c.txt', 'uploads/hello.txt', 'videos/big.bin'], 'listObjectsV2');

  const prefixes: string[] = [];
  for await (const item of client.listObjectsV2(bucket, '', false)) if (item.prefix) prefixes.push(item.prefix);
  t.same(prefixes.sort(), ['many/', 'uploads/', 'videos/'], 'listObjectsV2 with delimiter');

  await client.removeObject(bucket, 'uploads/hello.txt');
  await t.rejects(client.statObject(bucket, 'uploads/hello.txt'), { code: 'NotFound' }, 'removeObject');

  await client.removeObjects(bucket, ['many/a.txt', 'many/b.txt', 'many/c.txt', 'videos/big.bin']);
  const left: string[] = [];
  for await (const item of client.listObjectsV2(bucket, '', true)) if (item.name) left.push(item.name);
  t.same(left, [], 'removeObjects emptied the bucket');

  const ports = configuredPorts(dir);
  t.equal(new Set(ports).size, 4, 'four distinct ports');
  t.ok(processesFor(dir).length > 0, 'server process is running');
  await s3.stop();
  for (const port of ports) t.notOk(await isListening(port), `port ${port} closed after stop()`);
  t.same(processesFor(dir), [], 'no process left after stop()');
});

t.test('two servers at once, each with its own dir and ports', async (t) => {
  const [a, b] = await Promise.all([startS3Server({ dir: tempDir(t) }), startS3Server({ dir: tempDir(t) })]);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  t.not(a.endpoint, b.endpoint);
  for (const s of [a, b]) t.equal((await fetch(`${s.endpoint}/healthcheck`)).status, 200, `${s.endpoint} healthy`);
  // data dirs are separate: a bucket made on one is not on the other
  await clientOf(a).makeBucket('only-on-a', a.region);
  t.ok(await clientOf(a).bucketExists('only-on-a'));
  t.notOk(await clientOf(b).bucketExists('only-on-a'));
});

t.test('restart on the same dir keeps the data', async (t) => {
  const dir = tempDir(t);
  const first = await startS3Server({ dir });
  const c1 = clientOf(first);
  await c1.makeBucket('kept', first.region);
  await c1.putObject('kept', 'x.txt', Buffer.from('still here'));
  await first.stop();
  const second = await startS3Server({ dir });
  t.teardown(() => second.stop());
  const c2 = clientOf(second);
  t.equal((await readAll(await c2.getObject('kept', 'x.txt'))).toString(), 'still here');
});

t.test('the server goes away when the process that started it dies', async (t) => {
  const dir = tempDir(t);
  const modUrl = new URL('../src/s3-server.ts', import.meta.url).href;
  const script = `import { startS3Server } from ${JSON.stringify(modUrl)};
const s = await startS3Server({ dir: ${JSON.stringify(dir)} });
console.log(s.endpoint);
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  const endpoint = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`launcher exited with ${code}`)));
  });
  const port = Number(new URL(endpoint).port);
  t.ok(await isListening(port), 'server up');
  child.kill('SIGKILL');
  await poll(
    async () => processesFor(dir).length > 0 || (await isListening(port)),
    (busy) => !busy,
    { timeoutMs: 10_000, everyMs: 100 },
  );
  t.same(processesFor(dir), [], 'no process left');
  t.notOk(await isListening(port), 'port closed');
});
