// The chaos scenarios of issue 9, each run on a fresh platform (every service its own process).
// A scenario does its fault and its own checks; the harness then checks what every scenario
// must end with (checks.ts, finalChecks).
import { setTimeout as sleep } from 'node:timers/promises';
import { LIVE_STREAM, STREAMS, Subjects, WORK_STREAM } from '@reel/events';
import type { Restartable } from '@reel/stack';
import type { Ctx, Scenario } from './harness.ts';
import { accept, poll } from './harness.ts';
import { eventsOf, messagesOf } from '@reel/testing';
import { isAudioEncode, isLadderEncode, objectsOf, rssMiB } from './inspect.ts';
import { poisonScenario } from './poison.ts';
import { workerKill } from './worker-kill.ts';

/** Polls until `pid` is gone; resolves with the seconds it took, or undefined if still alive after `timeoutMs`. */
async function goneWithin(ctx: Ctx, pid: number, timeoutMs: number): Promise<number | undefined> {
  const from = Date.now();
  const alive = await poll(
    async () => ctx.ffmpegs().some((p) => p.pid === pid),
    (a) => !a,
    timeoutMs,
  );
  return alive ? undefined : Math.round((Date.now() - from) / 100) / 10;
}

/**
 * An outage-time API answer is 503 `unavailable` with Retry-After, never 500/502; or 200 for a
 * read the gateway can answer without the part that is down (its in-memory read model).
 */
function expectUnavailable(ctx: Ctx, what: string, res: { status: number; headers?: Headers; body: string }, opts: { servedOk?: boolean } = {}): void {
  const ok = (res.status === 503 && res.headers?.get('retry-after')) || (opts.servedOk && res.status === 200);
  ctx.note(`${what} during the outage: ${res.status}${res.headers?.get('retry-after') ? ` Retry-After ${res.headers.get('retry-after')}` : ''}`);
  if (!ok)
    ctx.problem(`${what} during the outage answered ${res.status} (${res.body.slice(0, 80)}), want 503 with Retry-After${opts.servedOk ? ' (or 200)' : ''}`);
}

/**
 * An infrastructure part down for `downMs` while videos are in flight: `clips` uploaded (the first
 * the long one, whose encode it waits for with `midEncode`), the part taken down (`how`), `during`
 * run in the outage, the part back once `downMs` have passed since it went down, then `after`.
 */
function outage(o: {
  name: string;
  fault: string;
  part: string;
  how: 'kill' | 'stop';
  clips: [seconds: number, title: string][];
  midEncode?: boolean;
  downMs: number;
  during?(ctx: Ctx, first: string): Promise<void>;
  after?(ctx: Ctx, first: string): Promise<void>;
}): Scenario {
  return {
    name: o.name,
    fault: o.fault,
    async run(ctx) {
      const ids: string[] = [];
      for (const [sec, title] of o.clips) ids.push(accept(`upload ${title}`, await ctx.upload(ctx.clip(sec), title)));
      const first = ids[0] ?? '';
      if (o.midEncode) await ctx.waitForFfmpeg(first);
      const p = part(ctx, o.part);
      await (o.how === 'kill' ? p.kill() : p.stop());
      const downAt = Date.now();
      await o.during?.(ctx, first);
      await sleep(Math.max(0, o.downMs - (Date.now() - downAt)));
      await p.start();
      ctx.faultEnded();
      await o.after?.(ctx, first);
    },
  };
}

const natsRestart = outage({
  name: 'nats-restart',
  fault: 'kill -9 nats-server while a 28 s clip (3 chunks + audio) is encoded, start it again 5 s later (same port and store)',
  part: 'nats',
  how: 'kill',
  clips: [
    [28, 'nats-a'],
    [6, 'nats-b'],
  ],
  midEncode: true,
  downMs: 5000,
  async during(ctx, a) {
    await sleep(1500);
    expectUnavailable(ctx, 'GET /v1/videos/:id', await ctx.get(a), { servedOk: true });
  },
  // the store keeps VIDEO and WORK; LIVE lives in memory: progress must flow again all the same
  async after(ctx, a) {
    const back = Date.now();
    const live = await poll(
      async () => {
        const info = await ctx.jsm.streams.info(LIVE_STREAM).catch(() => undefined);
        return !info ? 'missing' : Date.parse(info.state.last_ts) > back ? 'flowing' : 'quiet';
      },
      (s) => s === 'flowing',
      30_000,
    );
    const video = (await ctx.get(a)).video;
    ctx.note(`LIVE 30 s after the restart: ${live}; the 28 s video then ${video?.status}`);
    if (live === 'missing')
      ctx.problem(
        'PLATFORM: the LIVE stream (memory storage) is gone after the NATS restart and nothing creates it again: progress ticks are lost ("progress not published"), the catalog-live consumer is gone (catalog: "stream not found", then "heartbeats missed" forever) until the services restart',
      );
    else if (live === 'quiet' && video?.status === 'processing')
      ctx.problem('no progress tick in LIVE for 30 s after the NATS restart while a video was processing');
  },
});

const postgresDown = outage({
  name: 'postgres-down-30s',
  fault: 'Postgres stopped for 30 s while uploads run (a 28 s and a 6 s accepted before, 2 sent during the outage)',
  part: 'postgres',
  how: 'stop',
  clips: [
    [28, 'pg-a'],
    [6, 'pg-b'],
  ],
  downMs: 30_000,
  async during(ctx, a) {
    for (const title of ['pg-c', 'pg-d']) {
      const up = await ctx.upload(ctx.clip(6), title);
      ctx.note(`upload during the outage: ${up.status}`);
      if (up.status !== 202) ctx.problem(`an upload during the Postgres outage answered ${up.status} (${up.body.slice(0, 80)}), want 202`);
    }
    await sleep(2000);
    expectUnavailable(ctx, 'GET /v1/videos/:id', await ctx.get(a), { servedOk: true });
  },
});

const s3Down = outage({
  name: 's3-down-20s',
  fault: 'S3 server stopped for 20 s while a 28 s clip (3 chunks + audio) is encoded and thumbnails are made',
  part: 's3',
  how: 'stop',
  clips: [
    [28, 's3-a'],
    [6, 's3-b'],
  ],
  midEncode: true,
  downMs: 20_000,
  async during(ctx, a) {
    const up = await ctx.upload(ctx.clip(6), 's3-c');
    if (up.id) ctx.note('an upload during the S3 outage was accepted');
    else expectUnavailable(ctx, 'POST /v1/videos', up);
    const get = await ctx.get(a);
    if (get.status !== 200) ctx.problem(`GET of a processing video answered ${get.status} while only S3 was down`);
  },
});

const deleteMidTranscode: Scenario = {
  name: 'delete-mid-transcode',
  fault: 'DELETE /v1/videos/:id while chunks of its 30 s clip (3 chunks + audio) are being encoded',
  async run(ctx) {
    const id = accept('upload', await ctx.upload(ctx.clip(30), 'delete-me'));
    await ctx.waitForFfmpeg(id);
    await sleep(1500);
    // proves the listing sees this video's objects (the source at least) before they go
    ctx.note(`${(await objectsOf(ctx.buckets, id)).length} objects stored for it before the DELETE`);
    const work = (await messagesOf(ctx.jsm, WORK_STREAM)).filter((m) => m.videoId === id).length;
    const encodes = ctx.ffmpegs().filter((p) => (isLadderEncode(p) || isAudioEncode(p)) && p.cmdline.includes(id));
    ctx.note(`${encodes.length} encode(s) running and ${work} work item(s) in WORK for it at the DELETE`);
    const status = await ctx.remove(id);
    if (status !== 204) throw new Error(`DELETE answered ${status}`);
    ctx.faultEnded();
    const lives = await Promise.all(encodes.map((p) => goneWithin(ctx, p.pid, 60_000)));
    const lived = lives.some((l) => l === undefined) ? undefined : Math.max(0, ...(lives as number[]));
    ctx.note(`its ffmpegs ${lived === undefined ? 'still ran 60 s after the DELETE' : `stopped within ${lived} s of the DELETE`}`);
    if (lived === undefined || lived > 10) ctx.problem(`the deleted video's ffmpegs ran on for ${lived ?? '> 60'} s`);
    const from = Date.now();
    const left = await poll(
      () => objectsOf(ctx.buckets, id),
      (l) => l.length === 0,
      60_000,
    );
    if (left.length === 0) {
      // recovered: its work stopped and nothing of it is stored
      ctx.recovered();
      ctx.note(`storage empty for it ${Math.round((Date.now() - from) / 1000)} s after its ffmpeg stopped`);
    }
    // anything still running for it would write now: look again after a while
    await sleep(10_000);
    const get = await ctx.get(id);
    if (get.status !== 404) ctx.problem(`GET of the deleted video answered ${get.status} (${get.video?.status ?? get.body.slice(0, 60)})`);
    // no step publishes a follow-up fact for a deleted video (progress is chatter, in LIVE)
    const events = await eventsOf(ctx.jsm, id);
    const after = events.slice(events.indexOf(Subjects.deleted) + 1);
    ctx.note(`events: ${events.join(' → ')}`);
    if (!events.includes(Subjects.deleted)) ctx.problem('no video.deleted event');
    else if (after.length) ctx.problem(`published after the delete: ${after.join(', ')}`);
  },
};

const gatewayKill: Scenario = {
  name: 'gateway-kill-mid-upload',
  fault: 'kill -9 the gateway while a 96 MiB upload streams through it; restarted 2 s later; then a normal upload',
  // the killed gateway cannot abort its upload: the sweeper does, once it is stale (here after
  // 30 s, looked for every 10 s; by default 6 h and 10 min)
  platform: { env: { STALE_UPLOAD_AFTER_SEC: '30', UPLOAD_SWEEP_INTERVAL_SEC: '10' } },
  multipartGraceMs: 90_000,
  async run(ctx) {
    const gw = ctx.platform.apps.app('gateway');
    const rss0 = rssMiB(gw.pid);
    let peak = rss0;
    let sent = 0;
    const MiB = 1024 * 1024;
    const killAt = 48 * MiB;
    const boundary = `chaos${Date.now()}`;
    const chunk = Buffer.alloc(MiB);
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nkilled upload\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
          ),
        );
      },
      async pull(c) {
        if (sent >= 96 * MiB) {
          c.enqueue(Buffer.from(`\r\n--${boundary}--\r\n`));
          c.close();
          return;
        }
        await sleep(40);
        c.enqueue(chunk);
        sent += MiB;
        peak = Math.max(peak, rssMiB(gw.pid));
        if (sent === killAt) {
          await gw.kill({ group: false });
          ctx.faultEnded();
        }
      },
    });
    const res = await fetch(`${ctx.platform.url}/v1/videos`, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${ctx.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      duplex: 'half',
    } as RequestInit).catch((err: Error) => err);
    ctx.note(`gateway RSS ${Math.round(rss0)} → ${Math.round(peak)} MiB while ${sent / MiB} MiB were sent`);
    if (!(res instanceof Error)) ctx.problem(`the killed upload got an answer: ${res.status}`);
    const mpu = await ctx.buckets.incompleteUploads(ctx.buckets.source);
    ctx.note(`incomplete multipart uploads right after the kill: ${mpu.length}`);
    await sleep(2000);
    await gw.start();
    await poll(
      async () => (await fetch(`${ctx.platform.url}/v1/health`).catch(() => undefined))?.ok ?? false,
      (ok) => ok,
      60_000,
    );
    accept('upload after the restart', await ctx.upload(ctx.clip(6), 'after-gateway-restart'));
  },
};

const concurrent: Scenario = {
  name: 'concurrent-20',
  fault: '20 uploads at once: 16 clips of 4 s (one work item each), 4 of 20 s (3 chunks of 4, 12, 4 s + audio each)',
  // 20 ladders one after another on 2 shared cores: minutes, not a fault
  terminalTimeoutMs: 600_000,
  async run(ctx) {
    const short = ctx.clip(4);
    const long = ctx.clip(20);
    ctx.faultEnded();
    const ups = await Promise.all(Array.from({ length: 20 }, (_, i) => ctx.upload(i % 5 === 4 ? long : short, `concurrent ${i + 1}`)));
    const refused = ups.filter((u) => u.status !== 202);
    if (refused.length) ctx.problem(`${refused.length} of 20 uploads refused: ${[...new Set(refused.map((u) => u.status))].join(', ')}`);
  },
};

const clusterNodeLost: Scenario = {
  name: 'cluster-node-lost',
  fault: '3-node NATS cluster: kill -9 the node leading the WORK stream while chunks of a 28 s clip are encoded; it comes back after the videos are done',
  platform: { natsCluster: 3 },
  async run(ctx) {
    const a = accept('upload 1', await ctx.upload(ctx.clip(28), 'cluster-a'));
    const b = accept('upload 2', await ctx.upload(ctx.clip(6), 'cluster-b'));
    for (const stream of STREAMS) {
      const info = await ctx.jsm.streams.info(stream);
      if (info.config.num_replicas !== 3) ctx.problem(`the ${stream} stream has ${info.config.num_replicas} replicas, want 3`);
    }
    await ctx.waitForFfmpeg(a);
    const leaders = new Map<string, string | undefined>();
    for (const stream of STREAMS) leaders.set(stream, (await ctx.jsm.streams.info(stream)).cluster?.leader);
    // the work queue is where a lost acknowledgement would lose (or repeat) work
    const leader = leaders.get(WORK_STREAM);
    const node = [...ctx.platform.infra.parts.values()].find((p) => (p as Restartable & { serverName?: string }).serverName === leader);
    if (!node) throw new Error(`no started node is the WORK leader ${leader}`);
    await node.kill();
    ctx.faultEnded();
    const led = STREAMS.filter((s) => leaders.get(s) === leader);
    ctx.note(`killed ${node.name}, leader of ${led.join(', ')}`);
    // the videos finish on two nodes; then the lost node returns and must catch up
    for (const id of [a, b])
      await poll(
        async () => (await ctx.get(id).catch(() => undefined))?.video?.status ?? 'processing',
        (s) => s !== 'processing',
        240_000,
      );
    ctx.recovered();
    await node.start();
    const behind = await poll(
      async () => {
        const lagging: string[] = [];
        for (const stream of STREAMS) {
          const r = (await ctx.jsm.streams.info(stream).catch(() => undefined))?.cluster?.replicas ?? [];
          if (!(r.length === 2 && r.every((x) => x.current))) lagging.push(stream);
        }
        return lagging;
      },
      (l) => l.length === 0,
      30_000,
    );
    ctx.note(behind.length ? `${node.name} back; not current for ${behind.join(', ')} after 30 s` : `${node.name} back and current for every stream`);
    if (behind.length) ctx.problem(`the restarted node did not catch up on ${behind.join(', ')} within 30 s`);
  },
};

function part(ctx: Ctx, name: string): Restartable {
  const p = ctx.platform.infra.parts.get(name);
  if (!p) throw new Error(`no infrastructure part named ${name}`);
  return p;
}

export const SCENARIOS: readonly Scenario[] = [
  workerKill,
  natsRestart,
  postgresDown,
  s3Down,
  deleteMidTranscode,
  gatewayKill,
  poisonScenario,
  concurrent,
  clusterNodeLost,
];
