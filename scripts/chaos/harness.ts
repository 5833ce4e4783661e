// One chaos scenario's platform, what a scenario can do to it and see of it; then the checks
// every scenario ends with (checks.ts).
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type ClipName, makeClip, prettyLine, startTestPlatform, type TestPlatform, uploadFile } from '@reel/stack';
import { finalChecks, terminalTimeoutMs } from './checks.ts';
import { durableConsumers } from '@reel/testing';
import { type Buckets, ffmpegOfRun, isLadderEncode, openBuckets, type ProcInfo } from './inspect.ts';

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
  /** Waits until an ffmpeg of this run encodes a chunk of `id`'s ladder (one video in flight: any ladder encode). */
  waitForFfmpeg(id: string, timeoutMs?: number): Promise<ProcInfo>;
  ffmpegs(): ProcInfo[];
  /** JetStream's advisories since the platform started: messages terminated, and messages that reached their last delivery. */
  readonly advisories: { terminated: Advisory[]; maxDeliveries: Advisory[] };
  /** From now on, the services' log lines matching `re` (raw JSON lines) are collected in the returned list. */
  tapLogs(re: RegExp): { app: string; line: string }[];
  /** The error an app process last printed outside its JSON log (an uncaught exception), with its first frame. */
  crashOf(app: string): string | undefined;
  /** The fault is over (a part is back, or the kill happened): the recovery clock starts. */
  faultEnded(): void;
  /** The platform has recovered now (for scenarios that wait themselves before a last step). */
  recovered(): void;
  note(line: string): void;
  /** A scenario-specific failure. */
  problem(line: string): void;
  log(line: string): void;
}

/** `$JS.EVENT.ADVISORY.CONSUMER.{MSG_TERMINATED,MAX_DELIVERIES}.<stream>.<consumer>` (`reason` from nats-server 2.11). */
export interface Advisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
  reason?: string;
}

export const marker = (runId: string) => `REEL_CHAOS_RUN=${runId}`;

/** Starts a fresh platform, runs the scenario on it, checks what it left, stops everything. */
export async function runScenario(s: Scenario, o: { runId: string; outDir: string; clipsDir: string; timeoutMs: number }): Promise<Result> {
  const started = Date.now();
  const logFile = createWriteStream(join(o.outDir, `${s.name}.log`));
  const taps: { re: RegExp; into: { app: string; line: string }[] }[] = [];
  // what a process prints outside its JSON log: an uncaught exception's message and stack
  const raw = new Map<string, string[]>();
  const log = (source: string, line: string) => {
    for (const t of taps) if (t.re.test(line)) t.into.push({ app: source, line });
    if (!line.startsWith('{') && line.trim()) raw.set(source, [...(raw.get(source) ?? []), line.trim()].slice(-30));
    logFile.write(`[${source}] ${prettyLine(line)}\n`);
  };
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
    const advisories = { terminated: [] as Advisory[], maxDeliveries: [] as Advisory[] };
    for (const [kind, list] of [
      ['MSG_TERMINATED', advisories.terminated],
      ['MAX_DELIVERIES', advisories.maxDeliveries],
    ] as const) {
      nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.${kind}.>`, {
        callback: (err, m) => {
          if (!err) list.push(m.json<Advisory>());
        },
      });
    }
    const consumersAtStart = await durableConsumers(jsm);
    log('chaos', `durable consumers at the start: ${consumersAtStart.join(', ')}`);
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
          // a video of one chunk is encoded from a downloaded copy in a temp dir: its arguments name
          // the video only when it has several, so with one video in flight any ladder encode is that video's
          const ladders = ffmpegOfRun(marker(o.runId)).filter(isLadderEncode);
          const p = ladders.find((f) => f.cmdline.includes(id)) ?? ladders[0];
          if (p) return p;
          await sleep(100);
        }
        throw new Error(`no ffmpeg encoding ${id} within ${timeoutMs} ms`);
      },
      ffmpegs: () => ffmpegOfRun(marker(o.runId)),
      advisories,
      crashOf(app) {
        const lines = raw.get(app) ?? [];
        const i = lines.findLastIndex((l) => /^\w*Error\b|^Error:/.test(l));
        if (i < 0) return undefined;
        const frame = lines.slice(i + 1).find((l) => l.startsWith('at '));
        return `${lines[i]}${frame ? ` ${frame.replace(/file:\/\/\S*?node_modules\//, '')}` : ''}`;
      },
      tapLogs(re) {
        const into: { app: string; line: string }[] = [];
        taps.push({ re, into });
        return into;
      },
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
      const ms = o.timeoutMs + terminalTimeoutMs(s);
      timer = setTimeout(() => reject(new Error(`scenario timed out after ${ms / 1000} s`)), ms);
    });
    await Promise.race([
      (async () => {
        await s.run(ctx);
        faultEndedAt ??= Date.now();
        await finalChecks(ctx, s, r, { accepted, deleted, faultEndedAt, recoveredAt, marker: marker(o.runId), consumersAtStart });
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

/** The id of an accepted upload; anything else ends the scenario (it cannot go on without it). */
export function accept(what: string, up: Upload): string {
  if (!up.id) throw new Error(`${what}: upload answered ${up.status} ${up.body.slice(0, 200)}`);
  return up.id;
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
