import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { until } from '@reel/stack';
import { startNatsServer } from '@reel/stack/nats-server';
import t from 'tap';
import {
  consume,
  createPublisher,
  ensureVideoStream,
  type EventData,
  isVideoDeletedError,
  openTombstones,
  silentLogger,
  Subjects,
  type Subscription,
  type Tombstones,
} from '../src/mod.ts';
import { fixtures } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'reel-tombstones-'));
const server = await startNatsServer({ dir });
// two services: a publisher of deletions (the gateway) and a worker, each with its own connection
const ncA: NatsConnection = await connect({ servers: server.url });
const ncB: NatsConnection = await connect({ servers: server.url });
await ensureVideoStream(ncA);
const tombA = await openTombstones(ncA);
const tombB = await openTombstones(ncB);
const gateway = createPublisher(ncA, undefined, { tombstones: tombA });
const worker = createPublisher(ncB, undefined, { tombstones: tombB });
const subs: Subscription[] = [];
t.teardown(async () => {
  await Promise.all(subs.map((s) => s.stop(100)));
  await Promise.all([tombA.close(), tombB.close()]);
  await Promise.all([ncA.close(), ncB.close()]);
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const newVideo = () => `7a1c2d3e-4a5b-4c7d-8e9f-${String(++n).padStart(12, '0')}`;
const uploaded = (videoId: string): EventData<'video.uploaded'> => ({ ...fixtures['video.uploaded'].valid, videoId });
const deleteVideo = (videoId: string) => gateway.publish(Subjects.deleted, { videoId, ownerId: 'owner-1' }, { id: `${videoId}.deleted` });

t.test('publishing video.deleted records a tombstone every service sees within moments', async (t) => {
  const videoId = newVideo();
  t.equal(tombB.has(videoId), false);
  const started = Date.now();
  await deleteVideo(videoId);
  await until('the other service to see the tombstone', () => tombB.has(videoId));
  t.ok(Date.now() - started < 1000, `seen after ${Date.now() - started} ms`);
  await t.rejects(tombB.assertAlive(videoId), { name: 'VideoDeletedError' });
});

t.test('a tombstone written before a service starts is known to it at once', async (t) => {
  const videoId = newVideo();
  await deleteVideo(videoId);
  const nc = await connect({ servers: server.url });
  const late = await openTombstones(nc);
  t.teardown(async () => {
    await late.close();
    await nc.close();
  });
  t.equal(late.has(videoId), true);
});

t.test('no follow-up event is published for a deleted video', async (t) => {
  const videoId = newVideo();
  await deleteVideo(videoId);
  await until('tombstone', () => tombB.has(videoId));
  const err = await worker.publish(Subjects.progress, { videoId, stage: 'transcode', percent: 50 }).catch((e: unknown) => e);
  t.ok(isVideoDeletedError(err), 'the publisher refuses');
  // video.deleted itself may be repeated (the upload sweeper, a second DELETE)
  await t.resolves(worker.publish(Subjects.deleted, { videoId, ownerId: 'owner-1' }, { id: `${videoId}.deleted` }));
});

async function consumer(durable: string, tombstones: Tombstones, handler: (d: EventData<'video.uploaded'>, signal: AbortSignal) => Promise<void>) {
  const sub = await consume(ncB, {
    durable,
    filter: Subjects.uploaded,
    handlers: { [Subjects.uploaded]: (d, ctx) => handler(d, ctx.signal) },
    log: silentLogger,
    publisher: worker,
    stage: 'ingest',
    tombstones,
    backoffMs: [100],
  });
  subs.push(sub);
  return sub;
}

t.test('messages of a deleted video are acknowledged without running the handler', async (t) => {
  const videoId = newVideo();
  await deleteVideo(videoId);
  const other = newVideo();
  const handled: string[] = [];
  await consumer('skip-deleted', tombB, async (d) => {
    handled.push(d.videoId);
  });
  await gateway.publish(Subjects.uploaded, uploaded(videoId)).catch(() => {});
  // the gateway's publisher refuses too; publish as a service that has not heard yet
  const blind = createPublisher(ncA);
  await blind.publish(Subjects.uploaded, uploaded(videoId));
  await blind.publish(Subjects.uploaded, uploaded(other));
  await until('the live video to be handled', () => handled.includes(other));
  t.same(handled, [other]);
});

t.test('a running handler is aborted when its video is deleted, and nothing is reported failed', async (t) => {
  const videoId = newVideo();
  const failed: string[] = [];
  const sub = ncA.subscribe(Subjects.failed, { callback: (_e, m) => void failed.push(m.string()) });
  t.teardown(() => sub.unsubscribe());
  let aborted: unknown;
  let running = false;
  await consumer('abort-deleted', tombB, async (d, signal) => {
    // the durable starts at the stream's beginning: earlier tests' videos pass straight through
    if (d.videoId !== videoId) return;
    running = true;
    await new Promise<void>((_resolve, reject) => {
      signal.addEventListener('abort', () => {
        aborted = signal.reason;
        reject(new Error('ffmpeg was stopped'));
      });
    });
  });
  await createPublisher(ncA).publish(Subjects.uploaded, uploaded(videoId));
  await until('the handler to start', () => running);
  const started = Date.now();
  await deleteVideo(videoId);
  await until('the handler to be aborted', () => aborted);
  t.ok(isVideoDeletedError(aborted), 'aborted because the video was deleted');
  t.ok(Date.now() - started < 1000, `aborted ${Date.now() - started} ms after the delete`);
  await new Promise((r) => setTimeout(r, 300));
  t.same(failed, [], 'no video.failed for a deleted video');
});

t.test('the gate holds every fetch until it opens', async (t) => {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const handled: string[] = [];
  const sub = await consume(ncB, {
    durable: 'gated',
    filter: Subjects.uploaded,
    handlers: { [Subjects.uploaded]: async (d) => void handled.push(d.videoId) },
    log: silentLogger,
    publisher: worker,
    stage: 'ingest',
    gate: () => opened,
  });
  subs.push(sub);
  const videoId = newVideo();
  await createPublisher(ncA).publish(Subjects.uploaded, uploaded(videoId));
  await new Promise((r) => setTimeout(r, 500));
  t.notOk(handled.includes(videoId), 'nothing pulled while the gate is shut');
  open();
  await until('the message after the gate opens', () => handled.includes(videoId));
  t.pass('pulled once open');
});
