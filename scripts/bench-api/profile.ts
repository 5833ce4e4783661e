/**
 * Where an upload's CPU goes: `node scripts/bench-api/profile.ts [MiB] [--cpu-prof DIR]`.
 *
 * Starts the platform (startTestPlatform), then sends one file as a presigned PUT, as a multipart
 * upload straight from this process (putStream), a multipart POST /v1/videos and a tus upload, printing for each the MB/s and the CPU seconds spent by the
 * client (curl, or tus-js-client in its own process), the gateway and the S3 server's processes (from /proc), so a ratio short of 1 can be put down to
 * the gateway's own work or to the machine. With --cpu-prof every app writes a V8 CPU profile
 * to DIR when it stops (the gateway's is the one named after its pid).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@reel/runtime';
import { s3Spec } from '@reel/storage/config';
import { startTestPlatform } from '@reel/stack';
import { createStorage } from '@reel/storage';
import { writeRandomFile } from './random-file.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'cpu-prof': { type: 'string' } } });
const MiB = 1024 * 1024;
const size = Number(positionals[0] ?? 256) * MiB;
const TICK = 100; // USER_HZ
const teardowns: (() => Promise<void> | void)[] = [];
const dir = mkdtempSync(join(tmpdir(), 'reel-bench-profile-'));

/**
 * utime + stime of a process in seconds (0 when it is gone); with `children`, cutime + cstime: its
 * children that have exited and been waited for (this process' curl and tus client).
 */
function cpu(pid: number | 'self', children = false): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const at = children ? 13 : 11;
    return (Number(fields[at]) + Number(fields[at + 1])) / TICK;
  } catch {
    return 0;
  }
}
/** The pids whose command line mentions `needle` (the S3 server's processes name their config dir). */
function pidsOf(needle: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

try {
  const env: Record<string, string> = { RATE_LIMIT_WRITES_PER_MIN: '100000', LOG_LEVEL: 'warn' };
  if (values['cpu-prof']) env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${values['cpu-prof']}`;
  const platform = await startTestPlatform((fn) => void teardowns.push(fn), { env });
  const token = await platform.token('profile');
  const gateway = platform.apps.app('gateway').pid ?? 0;
  const s3 = pidsOf(platform.infra.dir).filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('python'));
  const file = join(dir, 'random.bin');
  writeRandomFile(file, size);
  const storage = createStorage(loadConfig(s3Spec, platform.env));

  const measure = async (label: string, fn: () => Promise<void> | void) => {
    const g0 = cpu(gateway);
    const s0 = s3.reduce((n, p) => n + cpu(p), 0);
    const c0 = cpu('self', true);
    const started = Date.now();
    await fn();
    const secs = (Date.now() - started) / 1000;
    const g = cpu(gateway) - g0;
    const s = s3.reduce((n, p) => n + cpu(p), 0) - s0;
    const c = cpu('self', true) - c0;
    console.log(
      `${label}: ${(size / 1e6 / secs).toFixed(1)} MB/s in ${secs.toFixed(1)} s; CPU s: client ${c.toFixed(1)}, gateway ${g.toFixed(1)}, S3 server ${s.toFixed(1)}; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
    );
  };
  const curl = (args: string[]) => execFileSync('curl', ['-sS', '-o', '/dev/null', '--fail', ...args]);
  const key = `bench/${randomUUID()}`;
  const url = await storage.presignPut(storage.sourceBucket, key, 3600);
  await measure('presigned PUT', () => void curl(['-X', 'PUT', '-T', file, url]));
  await storage.remove(storage.sourceBucket, key);
  // the ceiling for any path that stores in parts: the same file as a multipart upload straight
  // from here (8 MiB parts, as the gateway sends them)
  await measure('putStream from this process (S3 multipart, no gateway)', async () => {
    await storage.putStream(storage.sourceBucket, key, createReadStream(file, { highWaterMark: MiB }));
  });
  await storage.remove(storage.sourceBucket, key);
  await measure('multipart POST /v1/videos', () => void curl(['-H', `authorization: Bearer ${token}`, '-F', `file=@${file}`, `${platform.url}/v1/videos`]));
  const client = join(import.meta.dirname, 'tus-client.ts');
  for (const chunk of ['50', '48', 'whole']) {
    // the client in a process of its own (as curl): its CPU is not this process'
    await measure(
      chunk === 'whole' ? 'tus, one PATCH' : `tus, ${chunk} MiB chunks`,
      () => void execFileSync(process.execPath, [client, `${platform.url}/v1/tus`, token, file, chunk]),
    );
  }
} finally {
  for (const fn of teardowns.reverse()) await fn();
  rmSync(dir, { recursive: true, force: true });
}
