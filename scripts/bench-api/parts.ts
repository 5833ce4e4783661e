/**
 * Part size × parts in flight of streamed uploads (packages/storage's putStream), measured against
 * the test S3 server: `node scripts/bench-api/parts.ts [MiB]`. Prints MB/s and this process' RSS
 * growth (max during the upload minus before) for each setting, beside a presigned PUT of the same file.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@reel/runtime';
import { s3Spec } from '@reel/storage/config';
import { startTestInfra } from '@reel/stack';
import { createStorage } from '@reel/storage';
import { writeRandomFile } from './random-file.ts';

const MiB = 1024 * 1024;
const size = Number(process.argv[2] ?? 256) * MiB;
const teardowns: (() => Promise<void> | void)[] = [];
const dir = mkdtempSync(join(tmpdir(), 'reel-bench-parts-'));
try {
  const infra = await startTestInfra((fn) => void teardowns.push(fn));
  const cfg = loadConfig(s3Spec, infra.env);
  const file = join(dir, 'random.bin');
  writeRandomFile(file, size);
  const base = createStorage(cfg);
  await base.ensureBuckets();
  const url = await base.presignPut(base.sourceBucket, 'direct', 600);
  const secs = Number(execFileSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{time_total}', '-X', 'PUT', '-T', file, url], { encoding: 'utf8' }));
  console.log(`presigned PUT: ${(size / 1e6 / secs).toFixed(1)} MB/s`);
  for (const [partMiB, inFlight] of [
    [8, 4],
    [8, 3],
    [8, 2],
    [6, 3],
    [16, 2],
    [5, 4],
  ] as const) {
    const storage = createStorage(cfg, { partSize: partMiB * MiB, partsInFlight: inFlight });
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let max = before;
    const timer = setInterval(() => {
      max = Math.max(max, process.memoryUsage().rss);
    }, 20);
    const started = Date.now();
    await storage.putStream(storage.sourceBucket, `parts-${partMiB}-${inFlight}`, createReadStream(file, { highWaterMark: 64 * 1024 }));
    const ms = Date.now() - started;
    clearInterval(timer);
    console.log(`${partMiB} MiB × ${inFlight}: ${(size / 1e6 / (ms / 1000)).toFixed(1)} MB/s, RSS +${((max - before) / MiB).toFixed(0)} MiB`);
  }
} finally {
  for (const fn of teardowns.reverse()) await fn();
  rmSync(dir, { recursive: true, force: true });
}
