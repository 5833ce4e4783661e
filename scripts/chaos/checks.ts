// What every chaos scenario must end with (README of the suite: docs/reliability.md).
import { setTimeout as sleep } from 'node:timers/promises';
import { STREAMS, Subjects, VIDEO_STREAM, WORK_STREAM } from '@reel/events';
import type { Ctx, Result, Scenario, Video } from './harness.ts';
import { poll } from './harness.ts';
import { durableConsumers, messagesOf, type StoredMessage, undrainedConsumers } from '@reel/testing';
import { diskUsage, ffmpegOfRun, objectsOf } from './inspect.ts';
import { checkReady, type Plan } from './ready.ts';

const TERMINAL_TIMEOUT_MS = 240_000;
const DELETE_GRACE_MS = 60_000;

export const terminalTimeoutMs = (s: Scenario): number => s.terminalTimeoutMs ?? TERMINAL_TIMEOUT_MS;

export interface RunState {
  accepted: Set<string>;
  deleted: Map<string, number>;
  faultEndedAt: number;
  recoveredAt: number | undefined;
  marker: string;
  /** Durable consumers right after the platform started (`STREAM/name`). */
  consumersAtStart: string[];
}

export async function finalChecks(ctx: Ctx, s: Scenario, r: Result, st: RunState): Promise<void> {
  const { platform } = ctx;
  // 1. every accepted video ends ready or failed; none stays processing
  const deadline = st.faultEndedAt + terminalTimeoutMs(s);
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
  const count = (status: string) => vids.filter((v) => v?.status === status).length;
  const stuck = vids.filter((v) => !v || v.status === 'processing').length;
  r.outcome = `${count('ready')}/${st.accepted.size} ready`;
  if (count('failed')) r.outcome += `, ${count('failed')} failed`;
  if (stuck) r.outcome += `, ${stuck} stuck processing`;
  if (st.deleted.size) r.outcome += `, ${st.deleted.size} deleted`;
  const recovered = st.recoveredAt ?? Math.max(lastTerminal, healthAt ?? 0);
  if (stuck === 0 && healthAt !== undefined) r.recoverSec = Math.round((recovered - st.faultEndedAt) / 100) / 10;
  // what ingest planned for each video (rungs, chunks, audio), read back from the VIDEO stream
  const plans = plansOf(await messagesOf(ctx.jsm, VIDEO_STREAM).catch(() => []));
  const stuckAt = new Map<string, string[]>();
  const readyAs = new Map<string, number>();
  for (const [id, v] of finals) {
    if (!v || v.status === 'processing') {
      const stage = v ? (v.progress?.stage ?? '?') : 'no answer';
      stuckAt.set(stage, [...(stuckAt.get(stage) ?? []), id.slice(0, 8)]);
    }
    // every clip the scenarios upload is valid media: a failure is the platform's
    else if (v.status === 'failed')
      r.problems.push(`${id.slice(0, 8)} failed: ${v.error?.code} at ${v.error?.stage}: ${(v.error?.message ?? '').slice(0, 120)}`);
    else if (v.status === 'ready') {
      const found = { problems: [] as string[] };
      const as = await checkReady(v, plans.get(id), found);
      readyAs.set(as, (readyAs.get(as) ?? 0) + 1);
      if (found.problems.length) r.problems.push(...(await lookAgain(ctx, id, plans.get(id), found.problems)));
    }
  }
  if (readyAs.size) ctx.note(`ready (rungs of the plan found, chunks, length): ${[...readyAs].map(([as, n]) => `${n}× ${as}`).join('; ')}`);
  for (const [stage, ids] of stuckAt) r.problems.push(`stuck at ${stage}: ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ` and ${ids.length - 3} more` : ''}`);
  // an app process that died and was not restarted by the scenario
  for (const h of platform.apps.handles.values()) {
    if (!h.running) {
      r.leftBehind.push(`${h.name} process exited (code ${await h.exited})`);
      // no scenario leaves down a process it stopped: one that died by itself is the platform's fault
      const crash = ctx.crashOf(h.name.replace(/-\d+$/, ''));
      r.problems.push(`PLATFORM: ${h.name} died by itself${crash ? `: ${crash}` : ''}`);
    }
  }
  // 3. the streams and their consumers: still there, drained, and no work item left for any video
  const consumers = await durableConsumers(ctx.jsm);
  const lost = st.consumersAtStart.filter((c) => !consumers.includes(c));
  if (lost.length) r.leftBehind.push(`consumers gone: ${lost.join(', ')}`);
  for (const stream of STREAMS) {
    const ok = await ctx.jsm.streams.info(stream).then(
      () => true,
      () => false,
    );
    if (!ok) r.leftBehind.push(`stream ${stream} missing`);
  }
  const undrained = await poll(
    () => undrainedConsumers(ctx.jsm),
    (l) => l.length === 0,
    30_000,
  );
  if (undrained.length) r.leftBehind.push(`undrained consumers: ${undrained.join('; ')}`);
  const work = await poll(
    () => messagesOf(ctx.jsm, WORK_STREAM).catch(() => [] as StoredMessage[]),
    (l) => l.length === 0,
    30_000,
  );
  if (work.length) r.leftBehind.push(`WORK holds ${work.length} item(s): ${describeWork(work, finals, st.deleted)}`);
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
    async () => ffmpegOfRun(st.marker),
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

/**
 * A ready video that is not whole is looked at again 10 s later: still so, its problems stand;
 * whole by then, it was announced ready too early (what a webhook or a player acting on `ready` got).
 */
async function lookAgain(ctx: Ctx, id: string, plan: Plan | undefined, first: string[]): Promise<string[]> {
  await sleep(10_000);
  const v = (await ctx.get(id).catch(() => undefined))?.video;
  const again = { problems: [] as string[] };
  if (v?.status === 'ready') await checkReady(v, plan, again);
  else again.problems.push(`${id.slice(0, 8)} ${v?.status ?? 'gone'} 10 s after it was ready`);
  if (again.problems.length) return again.problems.map((p) => `PLATFORM: ${p} (still so 10 s later)`);
  return [`PLATFORM: ${id.slice(0, 8)} was ready before it was whole, and whole 10 s later; at first: ${first.join('; ')}`];
}

/** Each video's plan from its `video.ingested` event. */
function plansOf(facts: StoredMessage[]): Map<string, Plan> {
  const plans = new Map<string, Plan>();
  for (const m of facts) if (m.subject === Subjects.ingested && m.videoId && m.data) plans.set(m.videoId, m.data as unknown as Plan);
  return plans;
}

/** `work.transcode.requested ×2 for 0b2e1c3d (ready)`, grouped by subject and video. */
function describeWork(items: StoredMessage[], finals: Map<string, Video | undefined>, deleted: Map<string, number>): string {
  const groups = new Map<string, number>();
  for (const m of items) {
    const whose = !m.videoId
      ? 'no video'
      : deleted.has(m.videoId) || finals.has(m.videoId)
        ? `${m.videoId.slice(0, 8)} (${deleted.has(m.videoId) ? 'deleted' : (finals.get(m.videoId)?.status ?? '?')})`
        : 'a video the scenario did not upload';
    const key = `${m.subject} for ${whose}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([k, n]) => `${n}× ${k}`).join(', ');
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
