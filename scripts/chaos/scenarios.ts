// The chaos scenarios of issue 9, each run on a fresh platform (every service its own process).
// A scenario does its fault and its own checks; the harness then checks what every scenario
// must end with (see harness.ts, finalChecks).
import { setTimeout as sleep } from 'node:timers/promises';
import { Subjects, VIDEO_STREAM } from '@reel/events';
import type { Restartable } from '@reel/stack';
import type { Ctx, Scenario, Upload } from './harness.ts';
import { poll } from './harness.ts';
import { eventsOf, objectsOf, rssMiB } from './inspect.ts';
import { poisonScenario } from './poison.ts';

const accept = (what: string, up: Upload): string => {
  if (!up.id) throw new Error(`${what}: upload answered ${up.status} ${up.body.slice(0, 200)}`);
  return up.id;
};

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

const workerKill: Scenario = {
  name: 'worker-kill',
  fault: 'kill -9 the transcoder running a ladder encode (a second replica is up); the killed one restarts 3 s later',
  async run(ctx) {
    ctx.platform.apps.addReplica('transcoder');
    const id = accept('upload', await ctx.upload(ctx.clip(30), 'worker-kill'));
    const ff = await ctx.waitForFfmpeg(id);
    const worker = [...ctx.platform.apps.handles.values()].find((h) => h.pid === ff.ppid);
    if (!worker) throw new Error(`the ladder ffmpeg ${ff.pid} is not a transcoder's child (ppid ${ff.ppid})`);
    await worker.kill({ group: false });
    ctx.faultEnded();
    const restart = sleep(3000).then(() => worker.start());
    const lived = await goneWithin(ctx, ff.pid, 15_000);
    if (lived === undefined) ctx.problem(`the killed worker's ffmpeg still ran 15 s after the kill`);
    else if (lived > 5) ctx.problem(`the killed worker's ffmpeg ran on for ${lived} s`);
    ctx.note(`killed ${worker.name}; its ffmpeg ${lived === undefined ? 'outlived it' : `was gone ${lived} s later`}`);
    await restart;
  },
};

const natsRestart: Scenario = {
  name: 'nats-restart',
  fault: 'kill -9 nats-server while a ladder is encoded, start it again 5 s later (same port and store)',
  async run(ctx) {
    const a = accept('upload 1', await ctx.upload(ctx.clip(16), 'nats-a'));
    accept('upload 2', await ctx.upload(ctx.clip(6), 'nats-b'));
    await ctx.waitForFfmpeg(a);
    const nats = part(ctx, 'nats');
    await nats.kill();
    await sleep(1500);
    expectUnavailable(ctx, 'GET /v1/videos/:id', await ctx.get(a), { servedOk: true });
    await sleep(3500);
    await nats.start();
    ctx.faultEnded();
  },
};

const postgresDown: Scenario = {
  name: 'postgres-down-30s',
  fault: 'Postgres stopped for 30 s while uploads run (2 accepted before, 2 sent during the outage)',
  async run(ctx) {
    const a = accept('upload 1', await ctx.upload(ctx.clip(8), 'pg-a'));
    accept('upload 2', await ctx.upload(ctx.clip(6), 'pg-b'));
    const pg = part(ctx, 'postgres');
    await pg.stop();
    const downAt = Date.now();
    for (const title of ['pg-c', 'pg-d']) {
      const up = await ctx.upload(ctx.clip(6), title);
      ctx.note(`upload during the outage: ${up.status}`);
      if (up.status !== 202) ctx.problem(`an upload during the Postgres outage answered ${up.status} (${up.body.slice(0, 80)}), want 202`);
    }
    await sleep(2000);
    expectUnavailable(ctx, 'GET /v1/videos/:id', await ctx.get(a), { servedOk: true });
    await sleep(Math.max(0, 30_000 - (Date.now() - downAt)));
    await pg.start();
    ctx.faultEnded();
  },
};

const s3Down: Scenario = {
  name: 's3-down-20s',
  fault: 'S3 server stopped for 20 s while a ladder is encoded and thumbnails are made',
  async run(ctx) {
    const a = accept('upload 1', await ctx.upload(ctx.clip(20), 's3-a'));
    accept('upload 2', await ctx.upload(ctx.clip(6), 's3-b'));
    await ctx.waitForFfmpeg(a);
    const s3 = part(ctx, 's3');
    await s3.stop();
    const downAt = Date.now();
    const up = await ctx.upload(ctx.clip(6), 's3-c');
    if (up.id) ctx.note('an upload during the S3 outage was accepted');
    else expectUnavailable(ctx, 'POST /v1/videos', up);
    const get = await ctx.get(a);
    if (get.status !== 200) ctx.problem(`GET of a processing video answered ${get.status} while only S3 was down`);
    await sleep(Math.max(0, 20_000 - (Date.now() - downAt)));
    await s3.start();
    ctx.faultEnded();
  },
};

const deleteMidTranscode: Scenario = {
  name: 'delete-mid-transcode',
  fault: 'DELETE /v1/videos/:id while its ladder is being encoded',
  async run(ctx) {
    const id = accept('upload', await ctx.upload(ctx.clip(30), 'delete-me'));
    const ff = await ctx.waitForFfmpeg(id);
    await sleep(1500);
    // proves the listing sees this video's objects (the source at least) before they go
    ctx.note(`${(await objectsOf(ctx.buckets, id)).length} objects stored for it before the DELETE`);
    const status = await ctx.remove(id);
    if (status !== 204) throw new Error(`DELETE answered ${status}`);
    ctx.faultEnded();
    const lived = await goneWithin(ctx, ff.pid, 60_000);
    ctx.note(`its ffmpeg ${lived === undefined ? 'still ran 60 s after the DELETE' : `stopped ${lived} s after the DELETE`}`);
    if (lived === undefined || lived > 10) ctx.problem(`the deleted video's ffmpeg ran on for ${lived ?? '> 60'} s`);
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
    // no step publishes a follow-up for a deleted video (progress may trail by a moment)
    const events = await eventsOf(ctx.jsm, id);
    const after = events.slice(events.indexOf(Subjects.deleted) + 1).filter((e) => e !== Subjects.progress);
    ctx.note(`events: ${events.filter((e) => e !== Subjects.progress).join(' → ')}`);
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
  fault: '20 uploads at once (4 s clips)',
  // 20 ladders one after another on 2 shared cores: minutes, not a fault
  terminalTimeoutMs: 600_000,
  async run(ctx) {
    const file = ctx.clip(4);
    ctx.faultEnded();
    const ups = await Promise.all(Array.from({ length: 20 }, (_, i) => ctx.upload(file, `concurrent ${i + 1}`)));
    const refused = ups.filter((u) => u.status !== 202);
    if (refused.length) ctx.problem(`${refused.length} of 20 uploads refused: ${[...new Set(refused.map((u) => u.status))].join(', ')}`);
  },
};

const clusterNodeLost: Scenario = {
  name: 'cluster-node-lost',
  fault: '3-node NATS cluster: kill -9 the node leading the video stream mid-pipeline; it comes back after the videos are done',
  platform: { natsCluster: 3 },
  async run(ctx) {
    const a = accept('upload 1', await ctx.upload(ctx.clip(16), 'cluster-a'));
    const b = accept('upload 2', await ctx.upload(ctx.clip(6), 'cluster-b'));
    const info = await ctx.jsm.streams.info(VIDEO_STREAM);
    if (info.config.num_replicas !== 3) ctx.problem(`the video stream has ${info.config.num_replicas} replicas, want 3`);
    await ctx.waitForFfmpeg(a);
    const leader = (await ctx.jsm.streams.info(VIDEO_STREAM)).cluster?.leader;
    const node = [...ctx.platform.infra.parts.values()].find((p) => (p as Restartable & { serverName?: string }).serverName === leader);
    if (!node) throw new Error(`no started node is the stream leader ${leader}`);
    await node.kill();
    ctx.faultEnded();
    ctx.note(`killed ${node.name} (stream leader)`);
    // the videos finish on two nodes; then the lost node returns and must catch up
    for (const id of [a, b])
      await poll(
        async () => (await ctx.get(id).catch(() => undefined))?.video?.status ?? 'processing',
        (s) => s !== 'processing',
        240_000,
      );
    ctx.recovered();
    await node.start();
    const current = await poll(
      async () => {
        const i = await ctx.jsm.streams.info(VIDEO_STREAM).catch(() => undefined);
        const r = i?.cluster?.replicas ?? [];
        return r.length === 2 && r.every((x) => x.current);
      },
      (ok) => ok,
      30_000,
    );
    ctx.note(current ? `${node.name} back and current` : `${node.name} back but not current after 30 s`);
    if (!current) ctx.problem(`the restarted node did not catch up within 30 s`);
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
