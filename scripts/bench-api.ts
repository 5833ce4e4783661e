/**
 * API benchmark: `npm run bench:api [-- --seconds N --large]`.
 *
 * `--seconds` is each autocannon run (default 5), `--rounds` how many times baseline and gateway
 * alternate (default 3, medians shown), `--large` adds the 1 GiB uploads, `--uploads` measures
 * the uploads only, `--upload-rounds` how many times the three uploads of each size alternate
 * (default 3, medians shown).
 *
 * Starts the platform as `npm start` runs it (NATS, Postgres, the S3 server, the five apps as
 * processes, via startTestPlatform), then prints each figure beside its baseline, measured in
 * the same run so both see the same machine load:
 * - GET /v1/videos/:id of a ready public video, 20 connections (autocannon), anonymous and as its
 *   owner, vs a bare Fastify route (its own process) answering the same JSON;
 * - a 256 MiB (and with --large 1 GiB) multipart POST /v1/videos (curl) vs a presigned PUT of the
 *   same file straight to the S3 server (curl);
 * - the same file through tus (tus-js-client, 50 MiB chunks, and in one PATCH) vs the same presigned PUT;
 * - the gateway's RSS growth (max VmRSS during the upload minus before).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { loadConfig } from '@reel/runtime';
import { s3Spec } from '@reel/storage/config';
import { createStorage } from '@reel/storage';
import { makeClip, startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import autocannon from 'autocannon';
import { writeRandomFile } from './bench-api/random-file.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    large: { type: 'boolean', default: false },
    uploads: { type: 'boolean', default: false },
    'upload-rounds': { type: 'string', default: '3' },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const MiB = 1024 * 1024;
const SIZES = values.large ? [256 * MiB, 1024 * MiB] : [256 * MiB];
const UPLOAD_ROUNDS = Number(values['upload-rounds']);
const run = promisify(execFile);

const teardowns: (() => Promise<void> | void)[] = [];
async function cleanup() {
  for (const fn of teardowns.reverse()) await Promise.resolve(fn()).catch((err: unknown) => console.error('teardown failed:', err));
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

const dir = mkdtempSync(join(tmpdir(), 'reel-bench-api-'));
chmodSync(dir, 0o755);
teardowns.push(() => rmSync(dir, { recursive: true, force: true }));

const rows: string[][] = [];
const row = (...cells: string[]) => {
  rows.push(cells);
  console.error(`  ${cells.join(' | ')}`);
};
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

const readRss = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};
/** The highest VmRSS seen by any sampler. */
let rssPeak = 0;

/** Samples a process' VmRSS every 50 ms until stopped; returns the max minus the value before. */
function rssSampler(pid: number) {
  const read = () => {
    const rss = readRss(pid);
    rssPeak = Math.max(rssPeak, rss);
    return rss;
  };
  const before = read();
  let max = before;
  const timer = setInterval(() => {
    max = Math.max(max, read());
  }, 50);
  return {
    before,
    stop: () => {
      clearInterval(timer);
      return Math.max(max, read()) - before;
    },
  };
}

const makeFile = (bytes: number): string => writeRandomFile(join(dir, `random-${bytes / MiB}MiB.bin`), bytes);

/** Runs curl without blocking this process (the RSS sampler keeps sampling); the request's time in ms. */
async function timeCurl(args: string[]): Promise<number> {
  const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{time_total}', ...args], { encoding: 'utf8', maxBuffer: MiB });
  const [code, secs] = stdout.trim().split(' ');
  if (!code?.startsWith('2')) throw new Error(`curl answered ${code}`);
  return Number(secs) * 1000;
}

interface Cannon {
  rps: number;
  p99: number;
}
async function cannon(url: string, headers: Record<string, string> = {}): Promise<Cannon> {
  const r = await autocannon({ url, connections: 20, duration: SECONDS, headers });
  if (r.non2xx) throw new Error(`${r.non2xx} non-2xx answers from ${url}`);
  return { rps: r.requests.average, p99: r.latency.p99 };
}

/**
 * A tus upload of `path` by tus-js-client in a process of its own (bench-api/tus-client.ts), in
 * PATCHes of `chunk` MiB ('whole': tus-js-client's default, one PATCH); resolves with its milliseconds.
 */
async function tusUpload(endpoint: string, token: string, path: string, chunk: number | 'whole'): Promise<number> {
  const { stdout } = await run(process.execPath, [join(import.meta.dirname, 'bench-api', 'tus-client.ts'), endpoint, token, path, String(chunk)]);
  return Number(stdout.trim());
}

try {
  console.error(
    `load before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const platform = await startTestPlatform((fn) => void teardowns.push(fn), {
    env: { RATE_LIMIT_READS_PER_MIN: '100000000', RATE_LIMIT_WRITES_PER_MIN: '100000', LOG_LEVEL: 'warn' },
  });
  const token = await platform.token('bench');
  const gatewayPid = platform.apps.app('gateway').pid ?? 0;

  if (!values.uploads) await benchReads(platform, token);
  await benchUploads(platform, token, gatewayPid);
  const uptime = execFileSync('uptime', { encoding: 'utf8' }).trim();
  console.log(`\nmachine: ${uptime}\n`);
  console.log('| figure | now | baseline (same run) | ratio | goal |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await cleanup();
}

type Platform = Awaited<ReturnType<typeof startTestPlatform>>;

async function benchReads(platform: Platform, token: string) {
  // a ready public video: its playback links are part of every answer
  const clip = makeClip(dir, 'landscape', 2);
  const res = await uploadFile(platform.url, token, clip, { title: 'bench', visibility: 'public' });
  const { id } = (await res.json()) as { id: string };
  const ready = await waitForVideo(platform.url, token, id, ['ready', 'failed'], 300_000);
  if (ready.status !== 'ready') throw new Error(`the bench video ${ready.status}`);

  // the baseline server, answering the same JSON
  const bare = spawn(process.execPath, [join(import.meta.dirname, 'bench-api', 'bare-server.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  teardowns.push(() => void bare.kill('SIGTERM'));
  bare.stdin.end(JSON.stringify(ready));
  const barePort = await new Promise<number>((resolve) => bare.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));

  // rounds alternate baseline and gateway, so both see the same (shared, changing) load; medians
  console.error('reads…');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const reads = { base: [] as Cannon[], anon: [] as Cannon[], owner: [] as Cannon[] };
  for (let round = 0; round < ROUNDS; round++) {
    reads.base.push(await cannon(`http://127.0.0.1:${barePort}/v1/videos/${id}`));
    reads.anon.push(await cannon(`${platform.url}/v1/videos/${id}`));
    reads.owner.push(await cannon(`${platform.url}/v1/videos/${id}`, { authorization: `Bearer ${token}` }));
  }
  const mid = (rs: Cannon[]) => ({ rps: median(rs.map((r) => r.rps)), p99: median(rs.map((r) => r.p99)) });
  const base = mid(reads.base);
  const fmt = (r: Cannon) => `${Math.round(r.rps).toLocaleString('en')} req/s, p99 ${r.p99} ms`;
  for (const [label, rs] of [
    ['`GET /v1/videos/:id` anonymous, public ready video (20 conn.)', reads.anon],
    ['`GET /v1/videos/:id` as the owner (JWT checked)', reads.owner],
  ] as const) {
    const r = mid(rs);
    const ratios = rs.map((x, i) => x.rps / (reads.base[i]?.rps ?? 1));
    row(label, fmt(r), `bare fastify: ${fmt(base)}`, `${median(ratios).toFixed(2)} (rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})`, '≥ 0.3');
  }
}

/**
 * Each size: `--upload-rounds` rounds of presigned PUT, multipart POST and tus, one after the
 * other, so each upload is compared with the PUT of its own round (the load changes by the
 * minute); the medians and each round's ratio are printed. RSS: the first round's growth is the
 * gateway's first upload of that kind, the later rounds' the steady state.
 */
async function benchUploads(platform: Platform, token: string, gatewayPid: number) {
  const firstBefore = readRss(gatewayPid);
  const storage = createStorage(loadConfig(s3Spec, platform.env));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  for (const size of SIZES) {
    const label = `${size / MiB} MiB`;
    const file = makeFile(size);
    const rounds = {
      direct: [] as number[],
      multipart: [] as number[],
      tus: [] as number[],
      tusWhole: [] as number[],
      multipartRss: [] as number[],
      tusRss: [] as number[],
    };
    for (let round = 0; round < UPLOAD_ROUNDS; round++) {
      console.error(`uploads of ${label}, round ${round + 1}…`);
      const key = `bench/${randomUUID()}`;
      const url = await storage.presignPut(storage.sourceBucket, key, 3600);
      rounds.direct.push(mbps(size, await timeCurl(['-X', 'PUT', '-T', file, url])));
      await storage.remove(storage.sourceBucket, key);

      let rss = rssSampler(gatewayPid);
      rounds.multipart.push(mbps(size, await timeCurl(['-H', `authorization: Bearer ${token}`, '-F', `file=@${file}`, `${platform.url}/v1/videos`])));
      rounds.multipartRss.push(rss.stop());

      rss = rssSampler(gatewayPid);
      rounds.tus.push(mbps(size, await tusUpload(`${platform.url}/v1/tus`, token, file, 50)));
      rounds.tusRss.push(rss.stop());

      // one PATCH: what tus costs per PATCH (each one waits for its last part to be stored)
      rounds.tusWhole.push(mbps(size, await tusUpload(`${platform.url}/v1/tus`, token, file, 'whole')));
    }
    const direct = median(rounds.direct);
    for (const [what, speeds] of [
      ['multipart `POST /v1/videos` (curl)', rounds.multipart],
      ['tus (tus-js-client, 50 MiB chunks)', rounds.tus],
      ['tus (tus-js-client, one PATCH)', rounds.tusWhole],
    ] as const) {
      const ratios = speeds.map((x, i) => x / (rounds.direct[i] ?? 1));
      row(
        `${label} ${what}`,
        `${median(speeds).toFixed(1)} MB/s`,
        `presigned PUT: ${direct.toFixed(1)} MB/s`,
        `${median(ratios).toFixed(2)} (rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})`,
        '≥ 0.8',
      );
    }
    const mib = (xs: number[]) => xs.map((x) => `+${(x / MiB).toFixed(0)}`).join(', ');
    row(`gateway RSS growth per round, ${label} multipart / tus`, `${mib(rounds.multipartRss)} MiB / ${mib(rounds.tusRss)} MiB`, '0', '—', '< 64 MiB');
    rmSync(file);
  }
  row('gateway RSS, highest during all the uploads minus before the first', `+${((rssPeak - firstBefore) / MiB).toFixed(0)} MiB`, '0', '—', '< 64 MiB');
}
