// One chaos scenario's platform and the checks every scenario ends with.
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type ClipName, checkHls, makeClip, prettyLine, startTestPlatform, type TestPlatform, uploadFile } from '@reel/stack';
import { type Buckets, diskUsage, ffmpegOfRun, objectsOf, openBuckets, type ProcInfo, undrainedConsumers } from './inspect.ts';

export interface Scenario {
  name: string;
  /** One line: what is done to the platform. */
  fault: string;
  platform?: { natsCluster?: number; env?: Record<string, string> };
  /** How long incomplete multipart uploads may take to be cleaned (aborted or swept). */
  multipartGraceMs?: number;
  /** How long after the fault every accepted video has to end ready/failed (default 240 s). */
  terminalTimeoutMs?: number;
  run(ctx: Ctx): Promise<void>;
}

export interface Video {
  id: string;
  status: string;
  error?: { code?: string; stage?: string; message?: string };
  progress?: { stage?: string; percent?: number };
  playback?: { hls?: string; poster?: string; thumbnails?: string[]; storyboard?: string };
}

export interface Result {
  scenario: string;
  fault: string;
  pass: boolean;
  /** e.g. "4/4 ready" */
  outcome: string;
  /** Seconds from the end of the fault until every accepted video was ready/failed and health ok. */
  recoverSec: number | undefined;
  /** What was found left behind; empty when nothing. */
  leftBehind: string[];
  /** Why the scenario failed, beyond what was left behind. */
  problems: string[];
  notes: string[];
  wallSec: number;
}

export interface Upload {
  status: number;
  id?: string;
  body: string;
  headers?: Headers;
}

export interface Ctx {
  readonly name: string;
  readonly platform: TestPlatform;
  readonly token: string;
  readonly buckets: Buckets;
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** The apps' TMPDIR, scoped to this scenario. */
  readonly tmp: string;
  /** A generated clip of `seconds`, made once per run. */
  clip(seconds: number, name?: ClipName): string;
  /** POST /v1/videos; a 202 makes the video one the scenario must see ready. */
  upload(file: string, title: string): Promise<Upload>;
  get(id: string): Promise<{ status: number; video?: Video; headers: Headers; body: string }>;
  /** DELETE /v1/videos/:id; on 204 the video must leave nothing behind within a minute. */
  remove(id: string): Promise<number>;
  /** Waits until GET shows the video processing in one of `stages` (the catalog's view). */
  waitForStage(id: string, stages: string[], timeoutMs?: number): Promise<string>;
  /** Waits until an ffmpeg of this run encodes `id`'s ladder (one video in flight: any ladder encode). */
  waitForFfmpeg(id: string, timeoutMs?: number): Promise<ProcInfo>;
  ffmpegs(): ProcInfo[];
  /** The fault is over (a part is back, or the kill happened): the recovery clock starts. */
  faultEnded(): void;
  /** The platform has recovered now (for scenarios that wait themselves before a last step). */
  recovered(): void;
  note(line: string): void;
  /** A scenario-specific failure. */
  problem(line: string): void;
  log(line: string): void;
}

const TERMINAL_TIMEOUT_MS = 240_000;
const DELETE_GRACE_MS = 60_000;

export const marker = (runId: string) => `REEL_CHAOS_RUN=${runId}`;

/** Starts a fresh platform, runs the scenario on it, checks what it left, stops everything. */
export async function runScenario(s: Scenario, o: { runId: string; outDir: string; clipsDir: string; timeoutMs: number }): Promise<Result> {
  const started = Date.now();
  const logFile = createWriteStream(join(o.outDir, `${s.name}.log`));
  const log = (source: string, line: string) => logFile.write(`[${source}] ${prettyLine(line)}\n`);
  const teardowns: (() => Promise<void> | void)[] = [];
  const tmp = join(o.outDir, 'tmp', s.name);
  mkdirSync(tmp, { recursive: true });
  const r: Result = { scenario: s.name, fault: s.fault, pass: false, outcome: '', recoverSec: undefined, leftBehind: [], problems: [], notes: [], wallSec: 0 };
  const accepted = new Set<string>();
  const deleted = new Map<string, number>();
  let faultEndedAt: number | undefined;
  let recoveredAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const platform = await startTestPlatform((fn) => teardowns.push(fn), {
      natsCluster: s.platform?.natsCluster,
      log,
      // the checks poll every video twice a second: not a caller the read limit is meant for
      env: { TMPDIR: tmp, REEL_CHAOS_RUN: o.runId, LOG_LEVEL: 'info', RATE_LIMIT_READS_PER_MIN: '100000', ...s.platform?.env },
    });
    const token = await platform.token('chaos');
    const nc = await connect({ servers: platform.env.NATS_URL?.split(',') ?? [], maxReconnectAttempts: -1, reconnectTimeWait: 250, name: 'chaos' });
    teardowns.push(() => nc.close());
    const jsm = await jetstreamManager(nc);
    const buckets = openBuckets(platform.env as never);
    const auth = { authorization: `Bearer ${token}` };
    const ctx: Ctx = {
      name: s.name,
      platform,
      token,
      buckets,
      nc,
      jsm,
      tmp,
      clip(seconds, name = 'landscape') {
        const dir = join(o.clipsDir, `${name}-${seconds}`);
        mkdirSync(dir, { recursive: true });
        return makeClip(dir, name, seconds);
      },
      async upload(file, title) {
        const res = await uploadFile(platform.url, token, file, { title }).catch((err: Error) => ({
          status: 0,
          headers: undefined,
          text: async () => err.message,
        }));
        const body = await res.text();
        let id: string | undefined;
        if (res.status === 202) {
          id = (JSON.parse(body) as { id: string }).id;
          accepted.add(id);
        }
        return { status: res.status, id, body, headers: res.headers };
      },
      async get(id) {
        const res = await fetch(`${platform.url}/v1/videos/${id}`, { headers: auth });
        const body = await res.text();
        return { status: res.status, headers: res.headers, body, video: res.ok ? (JSON.parse(body) as Video) : undefined };
      },
      async remove(id) {
        const res = await fetch(`${platform.url}/v1/videos/${id}`, { method: 'DELETE', headers: auth });
        await res.body?.cancel();
        if (res.status === 204) {
          accepted.delete(id);
          deleted.set(id, Date.now());
        }
        return res.status;
      },
      async waitForStage(id, stages, timeoutMs = 120_000) {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          const { video } = await ctx.get(id).catch(() => ({ video: undefined }));
          if (video && video.status !== 'processing') throw new Error(`${id} became ${video.status} before reaching ${stages.join('/')}`);
          if (video?.progress?.stage && stages.includes(video.progress.stage)) return video.progress.stage;
          await sleep(200);
        }
        throw new Error(`${id} did not reach ${stages.join('/')} within ${timeoutMs} ms`);
      },
      async waitForFfmpeg(id, timeoutMs = 120_000) {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          // the ladder's ffmpeg reads a downloaded copy in a temp dir: its arguments name the
          // video only sometimes, so with one video in flight any ladder encode is that video's
          const ladders = ffmpegOfRun(marker(o.runId)).filter((f) => f.cmdline.includes('index.m3u8'));
          const p = ladders.find((f) => f.cmdline.includes(id)) ?? ladders[0];
          if (p) return p;
          await sleep(100);
        }
        throw new Error(`no ffmpeg encoding ${id} within ${timeoutMs} ms`);
      },
      ffmpegs: () => ffmpegOfRun(marker(o.runId)),
      faultEnded() {
        faultEndedAt = Date.now();
        log('chaos', 'fault over: recovery clock started');
      },
      recovered() {
        recoveredAt = Date.now();
      },
      note(line) {
        r.notes.push(line);
        log('chaos', line);
      },
      problem: (line) => r.problems.push(line),
      log: (line) => log('chaos', line),
    };
    const timeout = new Promise<never>((_, reject) => {
      const ms = o.timeoutMs + (s.terminalTimeoutMs ?? TERMINAL_TIMEOUT_MS);
      timer = setTimeout(() => reject(new Error(`scenario timed out after ${ms / 1000} s`)), ms);
    });
    await Promise.race([
      (async () => {
        await s.run(ctx);
        faultEndedAt ??= Date.now();
        await finalChecks(ctx, s, r, { accepted, deleted, faultEndedAt, recoveredAt, runId: o.runId });
      })(),
      timeout,
    ]);
  } catch (err) {
    r.problems.push(`aborted: ${(err as Error).message.split('\n')[0]}`);
    log('chaos', `aborted: ${(err as Error).stack}`);
  } finally {
    clearTimeout(timer);
    for (const fn of teardowns.reverse()) await Promise.resolve(fn()).catch((err) => log('chaos', `teardown: ${(err as Error).message}`));
    // whatever ffmpeg this scenario left, it does not outlive the scenario
    for (const p of ffmpegOfRun(marker(o.runId))) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(tmp, { recursive: true, force: true });
    r.wallSec = Math.round((Date.now() - started) / 1000);
    r.pass = r.problems.length === 0 && r.leftBehind.length === 0;
    await new Promise<void>((res) => logFile.end(res));
  }
  return r;
}

async function finalChecks(
  ctx: Ctx,
  s: Scenario,
  r: Result,
  st: { accepted: Set<string>; deleted: Map<string, number>; faultEndedAt: number; recoveredAt: number | undefined; runId: string },
): Promise<void> {
  const { platform } = ctx;
  // 1. every accepted video ends ready or failed; none stays processing
  const deadline = st.faultEndedAt + (s.terminalTimeoutMs ?? TERMINAL_TIMEOUT_MS);
  const finals = new Map<string, Video | undefined>();
  let lastTerminal = st.faultEndedAt;
  await Promise.all(
    [...st.accepted].map(async (id) => {
      let last: Video | undefined;
      while (Date.now() < deadline) {
        last = (await ctx.get(id).catch(() => ({ video: undefined }))).video ?? last;
        if (last && last.status !== 'processing') break;
        await sleep(500);
      }
      if (last && last.status !== 'processing') lastTerminal = Math.max(lastTerminal, Date.now());
      finals.set(id, last);
    }),
  );
  // 2. no service needs a restart: health answers ok by itself
  const healthAt = await waitHealthy(platform.url, Math.max(deadline, Date.now() + 30_000));
  if (healthAt === undefined) r.leftBehind.push(`needs restart: ${await downServices(platform.url)}`);
  const vids = [...finals.values()];
  const count = (st: string) => vids.filter((v) => v?.status === st).length;
  const stuck = vids.filter((v) => !v || v.status === 'processing').length;
  r.outcome = `${count('ready')}/${st.accepted.size} ready`;
  if (count('failed')) r.outcome += `, ${count('failed')} failed`;
  if (stuck) r.outcome += `, ${stuck} stuck processing`;
  if (st.deleted.size) r.outcome += `, ${st.deleted.size} deleted`;
  const recovered = st.recoveredAt ?? Math.max(lastTerminal, healthAt ?? 0);
  if (stuck === 0 && healthAt !== undefined) r.recoverSec = Math.round((recovered - st.faultEndedAt) / 100) / 10;
  const stuckAt = new Map<string, string[]>();
  for (const [id, v] of finals) {
    if (!v || v.status === 'processing') {
      const stage = v ? (v.progress?.stage ?? '?') : 'no answer';
      stuckAt.set(stage, [...(stuckAt.get(stage) ?? []), id.slice(0, 8)]);
    }
    // every clip the scenarios upload is valid media: a failure is the platform's
    else if (v.status === 'failed')
      r.problems.push(`${id.slice(0, 8)} failed: ${v.error?.code} at ${v.error?.stage}: ${(v.error?.message ?? '').slice(0, 120)}`);
    else if (v.status === 'ready') await checkReady(v, r);
  }
  for (const [stage, ids] of stuckAt) r.problems.push(`stuck at ${stage}: ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ` and ${ids.length - 3} more` : ''}`);
  // an app process that died and was not restarted by the scenario
  for (const h of platform.apps.handles.values()) {
    if (!h.running) r.leftBehind.push(`${h.name} process exited (code ${await h.exited})`);
  }
  // 3. consumers drain (a stalled subscription would hold messages forever)
  const undrained = await poll(
    () => undrainedConsumers(ctx.jsm),
    (l) => l.length === 0,
    30_000,
  );
  if (undrained.length) r.leftBehind.push(`undrained consumers: ${undrained.join('; ')}`);
  // 4. a deleted video leaves nothing within a minute
  for (const [id, at] of st.deleted) {
    const left = await poll(
      () => objectsOf(ctx.buckets, id),
      (l) => l.length === 0,
      Math.max(0, at + DELETE_GRACE_MS - Date.now()),
    );
    if (left.length) r.leftBehind.push(`${left.length} objects of deleted video ${id.slice(0, 8)} (${summarizeKeys(left)})`);
  }
  // 5. no incomplete multipart upload in the source bucket
  const mpuBefore = (await ctx.buckets.incompleteUploads(ctx.buckets.source)).length;
  const mpu = await poll(
    () => ctx.buckets.incompleteUploads(ctx.buckets.source),
    (l) => l.length === 0,
    s.multipartGraceMs ?? 5_000,
  );
  if (mpuBefore && !mpu.length)
    ctx.note(`${mpuBefore} incomplete multipart upload(s) gone ${Math.round((Date.now() - st.faultEndedAt) / 1000)} s after the fault`);
  if (mpu.length) r.leftBehind.push(`${mpu.length} incomplete multipart upload(s): ${mpu.slice(0, 3).join(', ')}`);
  // 6. no ffmpeg of this run is left once every video is done
  const orphans = await poll(
    async () => ffmpegOfRun(marker(st.runId)),
    (l) => l.length === 0,
    10_000,
  );
  if (orphans.length) r.leftBehind.push(`${orphans.length} ffmpeg process(es) still running`);
  // 7. nothing left in the apps' temp directory
  const du = await poll(
    async () => diskUsage(ctx.tmp),
    (d) => d.files === 0,
    10_000,
  );
  if (du.files)
    r.leftBehind.push(`temp: ${du.files} files, ${(du.bytes / 1048576).toFixed(1)} MiB (${du.some.join(', ')}${du.files > du.some.length ? ', …' : ''})`);
}

/** A ready video: every segment its playlists name is there, and its poster, thumbnails and storyboard. */
async function checkReady(v: Video, r: Result): Promise<void> {
  const id = v.id.slice(0, 8);
  if (!v.playback?.hls) {
    r.problems.push(`${id} ready without a playlist`);
    return;
  }
  const hls = await checkHls(v.playback.hls);
  if (hls.missing.length) r.problems.push(`${id}: ${hls.missing.length} of ${hls.segments} segments/playlists missing (${hls.missing.slice(0, 2).join(', ')})`);
  if (hls.duplicates) r.problems.push(`${id}: ${hls.duplicates} segments listed twice`);
  const images = [v.playback.poster, v.playback.storyboard, ...(v.playback.thumbnails ?? [])].filter(Boolean) as string[];
  if (!v.playback.poster || !v.playback.storyboard || !v.playback.thumbnails?.length) r.problems.push(`${id} ready without poster/thumbnails/storyboard`);
  for (const url of images) {
    const res = await fetch(url, { headers: { range: 'bytes=0-0' } }).catch(() => undefined);
    await res?.body?.cancel();
    if (!res?.ok) {
      r.problems.push(`${id}: image ${url.split('?')[0]?.split('/').pop()} answers ${res?.status ?? 'nothing'}`);
      break;
    }
  }
}

async function waitHealthy(url: string, until: number): Promise<number | undefined> {
  do {
    try {
      const res = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(5000) });
      if (res.ok && ((await res.json()) as { status?: string }).status === 'ok') return Date.now();
    } catch {
      // not yet
    }
    await sleep(500);
  } while (Date.now() < until);
  return undefined;
}

async function downServices(url: string): Promise<string> {
  try {
    const res = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(5000) });
    const h = (await res.json()) as { services?: Record<string, string> };
    const down = Object.entries(h.services ?? {})
      .filter(([, s]) => s !== 'up')
      .map(([n]) => n);
    return down.length ? down.join(', ') : `health ${res.status}`;
  } catch (err) {
    return `gateway (${(err as Error).message})`;
  }
}

/** Calls `fn` until `done` holds or `timeoutMs` passes; returns the last value. */
export async function poll<T>(fn: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (done(v) || Date.now() >= deadline) return v;
    await sleep(500);
  }
}

function summarizeKeys(keys: string[]): string {
  const kinds = new Map<string, number>();
  for (const k of keys) {
    const kind = /\.ts$/.test(k)
      ? 'segments'
      : /\.m3u8$/.test(k)
        ? 'playlists'
        : /\.jpg$/.test(k)
          ? 'images'
          : k.split('/').slice(0, 1)[0] === 'work'
            ? 'work files'
            : (k.split('/').pop() ?? k);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].map(([k, n]) => `${n} ${k}`).join(', ');
}
