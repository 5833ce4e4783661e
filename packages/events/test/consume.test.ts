import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { until } from '@reel/stack';
import { startNatsServer } from '@reel/stack/nats-server';
import { InMemorySpanExporter, SimpleSpanProcessor, startTelemetry } from '@reel/telemetry';
import t from 'tap';
import {
  consume,
  createPublisher,
  ensureVideoStream,
  type EventData,
  type Logger,
  PermanentError,
  RetryableError,
  Subjects,
  type Subscription,
  LIVE_STREAM,
  VIDEO_STREAM,
  WORK_STREAM,
} from '../src/mod.ts';
import { fixtures } from './fixtures.ts';

const spans = new InMemorySpanExporter();
const telemetry = startTelemetry({
  serviceName: 'events-test',
  env: { OTEL_SERVICE_NAME: 'events-test' },
  spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
});

interface Entry {
  level: string;
  obj: Record<string, unknown>;
  msg?: string;
}
function captureLogger(entries: Entry[], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (obj: object, msg?: string) => entries.push({ level, obj: { ...bindings, ...obj }, msg });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => captureLogger(entries, { ...bindings, ...b }) };
}

let nc: NatsConnection;
const dir = mkdtempSync(join(tmpdir(), 'reel-events-'));
const server = await startNatsServer({ dir });
nc = await connect({ servers: server.url });
await ensureVideoStream(nc, { duplicateWindowMs: 60_000 });
const publisher = createPublisher(nc);
const subs: Subscription[] = [];
t.teardown(async () => {
  await Promise.all(subs.map((s) => s.stop(100)));
  await nc.close();
  await server.stop();
  await telemetry.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

/** Collects every video.failed event (a plain NATS subscription sees JetStream publishes too). */
const failed: EventData<'video.failed'>[] = [];
nc.subscribe(Subjects.failed, {
  callback: (_e, m) => {
    failed.push((m.json() as { data: EventData<'video.failed'> }).data);
  },
});

const uploaded = fixtures['video.uploaded'].valid;
const withId = (videoId: string) => ({ ...uploaded, videoId });
let n = 0;
const newVideo = () => `6f1c2d3e-4a5b-4c7d-8e9f-${String(++n).padStart(12, '0')}`;

t.test('a message with a bad schema is terminated with a logged reason, not redelivered', async (t) => {
  const entries: Entry[] = [];
  let called = 0;
  const sub = await consume(nc, {
    durable: 'bad-schema',
    filter: Subjects.uploaded,
    handlers: { [Subjects.uploaded]: async () => void called++ },
    log: captureLogger(entries),
    publisher,
    stage: 'ingest',
    ackWaitMs: 300,
  });
  subs.push(sub);
  const videoId = newVideo();
  const bad = { id: 'bad-1', type: Subjects.uploaded, version: 1, occurredAt: new Date().toISOString(), data: { ...withId(videoId), visibility: 'secret' } };
  await jetstream(nc).publish(Subjects.uploaded, JSON.stringify(bad), { msgID: 'bad-1' });
  const logged = await until('the termination log', () => entries.find((e) => e.msg === 'invalid message terminated'));
  t.match(String(logged.obj.reason), /\/visibility/, 'the log says which field is wrong');
  await new Promise((r) => setTimeout(r, 1000)); // three ack waits
  const info = await (await jetstreamManager(nc)).consumers.info(VIDEO_STREAM, 'bad-schema');
  t.equal(info.num_redelivered, 0, 'not redelivered');
  t.equal(info.num_ack_pending, 0, 'not pending');
  t.equal(called, 0, 'the handler never saw it');
  const f = await until('video.failed', () => failed.find((e) => e.videoId === videoId));
  t.equal(f.code, 'invalid_message');
  await sub.stop();
});

t.test('a retryable failure is retried with backoff, then succeeds', async (t) => {
  const at: number[] = [];
  const videoId = newVideo();
  const sub = await consume(nc, {
    durable: 'retry',
    filter: Subjects.uploaded,
    handlers: {
      [Subjects.uploaded]: async (d, ctx) => {
        if (d.videoId !== videoId) return;
        at.push(Date.now());
        if (ctx.deliveryCount < 3) throw new RetryableError('storage hiccup');
      },
    },
    log: captureLogger([]),
    publisher,
    stage: 'ingest',
    backoffMs: [300, 600],
    maxDeliver: 5,
  });
  subs.push(sub);
  await publisher.publish(Subjects.uploaded, withId(videoId));
  await until('three attempts', () => at.length >= 3);
  await new Promise((r) => setTimeout(r, 800));
  t.equal(at.length, 3, 'no attempt after the one that succeeded');
  t.ok((at[1] ?? 0) - (at[0] ?? 0) >= 280, `first retry waited ${(at[1] ?? 0) - (at[0] ?? 0)} ms (backoff 300)`);
  t.ok((at[2] ?? 0) - (at[1] ?? 0) >= 570, `second retry waited ${(at[2] ?? 0) - (at[1] ?? 0)} ms (backoff 600)`);
  t.notOk(
    failed.find((e) => e.videoId === videoId),
    'no video.failed for a success',
  );
  // every attempt is a consumer span in the trace of the one publish, numbered by delivery
  const attempts = spans
    .getFinishedSpans()
    .filter((s) => s.attributes['messaging.consumer.group.name'] === 'retry' && s.attributes['reel.video.id'] === videoId);
  t.same(attempts.map((s) => s.attributes['messaging.nats.delivery_count']).sort(), [1, 2, 3], 'three attempts, three consumer spans');
  t.equal(new Set(attempts.map((s) => s.spanContext().traceId)).size, 1, 'all in the same trace');
  t.same(attempts.map((s) => s.attributes['reel.outcome']).sort(), ['ack', 'retry', 'retry']);
  await sub.stop();
});

t.test('a handler that keeps failing ends in video.failed after maxDeliver attempts', async (t) => {
  let attempts = 0;
  const videoId = newVideo();
  const sub = await consume(nc, {
    durable: 'always-fails',
    filter: Subjects.uploaded,
    handlers: {
      [Subjects.uploaded]: async (d) => {
        if (d.videoId !== videoId) return; // earlier tests' events
        attempts++;
        throw new Error('disk full');
      },
    },
    log: captureLogger([]),
    publisher,
    stage: 'ingest',
    backoffMs: [50],
    maxDeliver: 3,
  });
  subs.push(sub);
  await publisher.publish(Subjects.uploaded, withId(videoId));
  const f = await until('video.failed', () => failed.find((e) => e.videoId === videoId));
  t.equal(f.code, 'retries_exhausted');
  t.equal(f.stage, 'ingest');
  t.match(f.message, /gave up after 3 attempts: disk full/);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(attempts, 3, 'exactly maxDeliver attempts');
  await sub.stop();
});

t.test('a PermanentError ends at once in video.failed with its code', async (t) => {
  let attempts = 0;
  const videoId = newVideo();
  const sub = await consume(nc, {
    durable: 'permanent',
    filter: Subjects.uploaded,
    handlers: {
      [Subjects.uploaded]: async (d) => {
        if (d.videoId !== videoId) return;
        attempts++;
        throw new PermanentError('not_a_video', 'the file is a still image');
      },
    },
    log: captureLogger([]),
    publisher,
    stage: 'ingest',
  });
  subs.push(sub);
  await publisher.publish(Subjects.uploaded, withId(videoId));
  const f = await until('video.failed', () => failed.find((e) => e.videoId === videoId));
  t.same({ code: f.code, message: f.message }, { code: 'not_a_video', message: 'the file is a still image' });
  t.equal(attempts, 1);
  await sub.stop();
});

t.test('a duplicate publish (same event id) is dropped', async (t) => {
  const videoId = newVideo();
  const first = await publisher.publish(Subjects.deleted, { videoId, ownerId: 'u1' }, { id: `dup-${videoId}` });
  const second = await publisher.publish(Subjects.deleted, { videoId, ownerId: 'u1' }, { id: `dup-${videoId}` });
  t.equal(first.duplicate, false);
  t.equal(second.duplicate, true, 'JetStream reports the duplicate');
  t.equal(second.seq, first.seq, 'and stores nothing new');
});

t.test('a second independent durable consumer (analytics) receives every event', async (t) => {
  const seen = { catalog: [] as string[], analytics: [] as string[] };
  const mk = (name: 'catalog' | 'analytics') =>
    consume(nc, {
      durable: `fanout-${name}`,
      filter: 'video.>',
      handlers: {
        [Subjects.uploaded]: async (_d, ctx) => void seen[name].push(ctx.envelope.id),
        [Subjects.deleted]: async (_d, ctx) => void seen[name].push(ctx.envelope.id),
      },
      log: captureLogger([]),
      publisher,
      stage: 'catalog',
      concurrency: 4,
    });
  const before = (await (await jetstreamManager(nc)).streams.info(VIDEO_STREAM)).state.messages;
  t.ok(before > 0, 'the stream already holds earlier events');
  subs.push(await mk('catalog'));
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const videoId = newVideo();
    ids.push((await publisher.publish(Subjects.deleted, { videoId, ownerId: `u${i}` })).id);
  }
  // the analytics subscriber is added later and still sees everything, from the start of the stream
  subs.push(await mk('analytics'));
  await until('both consumers saw every new event', () => ids.every((id) => seen.catalog.includes(id) && seen.analytics.includes(id)));
  t.equal(new Set(seen.analytics).size, seen.analytics.length, 'no event twice');
  t.ok(seen.analytics.length >= ids.length, `analytics saw ${seen.analytics.length} events`);
});

t.test('three paths: facts are history (VIDEO), work is gone once done (WORK), progress is a minute of chatter (LIVE)', async (t) => {
  const jsm = await jetstreamManager(nc);
  const count = async (stream: string) => (await jsm.streams.info(stream)).state.messages;
  const before = { video: await count(VIDEO_STREAM), live: await count(LIVE_STREAM) };
  const videoId = newVideo();
  await publisher.publish(Subjects.progress, { videoId, stage: 'transcode', percent: 5 });
  t.equal(await count(VIDEO_STREAM), before.video, 'a progress tick is not history');
  t.equal(await count(LIVE_STREAM), before.live + 1, 'it is chatter');
  const live = (await jsm.streams.info(LIVE_STREAM)).config;
  t.equal(live.storage, 'file', 'on file: it outlives a NATS restart (stream.test.ts)');
  t.equal(live.max_age, 60_000_000_000, 'kept a minute');
  t.equal((await jsm.streams.info(WORK_STREAM)).config.retention, 'workqueue', 'work items leave the queue once done');
  const work = fixtures[Subjects.transcodeRequested].valid;
  const seen: string[] = [];
  subs.push(
    await consume(nc, {
      durable: 'work-queue',
      filter: Subjects.transcodeRequested,
      handlers: { [Subjects.transcodeRequested]: async (_d, ctx) => void seen.push(ctx.envelope.id) },
      log: captureLogger([]),
      publisher,
      stage: 'transcode',
    }),
  );
  const { id } = await publisher.publish(Subjects.transcodeRequested, { ...work, videoId });
  await until('the work item is done', () => seen.includes(id));
  await until('and gone from the queue', async () => (await count(WORK_STREAM)) === 0);
  t.pass('acknowledged work leaves the WORK stream');
});

t.test('trace context survives a publish → consume hop', async (t) => {
  spans.reset();
  let handlerTrace: string | undefined;
  let handlerSpan: string | undefined;
  const videoId = newVideo();
  const sub = await consume(nc, {
    durable: 'traced',
    filter: Subjects.deleted,
    handlers: {
      [Subjects.deleted]: async (d) => {
        if (d.videoId !== videoId) return;
        const ctx = trace.getActiveSpan()?.spanContext();
        handlerTrace = ctx?.traceId;
        handlerSpan = ctx?.spanId;
      },
    },
    log: captureLogger([]),
    publisher,
    stage: 'catalog',
  });
  subs.push(sub);
  const tracer = trace.getTracer('test');
  const root = tracer.startSpan('upload request');
  await context.with(trace.setSpan(context.active(), root), () => publisher.publish(Subjects.deleted, { videoId, ownerId: 'u1' }));
  root.end();
  await until('the handler ran', () => handlerTrace);
  await new Promise((r) => setTimeout(r, 300));
  const traceId = root.spanContext().traceId;
  t.equal(handlerTrace, traceId, 'the handler runs in the publisher’s trace');
  const done = await until('spans exported', () => {
    const all = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    return all.length >= 3 ? all : undefined;
  });
  const producer = done.find((s) => s.kind === SpanKind.PRODUCER);
  const consumers = done.filter((s) => s.kind === SpanKind.CONSUMER);
  const consumer = consumers.find((s) => s.attributes['messaging.consumer.group.name'] === 'traced');
  t.ok(producer && consumer, 'a producer and a consumer span');
  t.equal(producer?.parentSpanContext?.spanId, root.spanContext().spanId, 'producer is a child of the request');
  t.equal(consumer?.parentSpanContext?.spanId, producer?.spanContext().spanId, 'consumer is a child of the producer');
  t.equal(consumer?.spanContext().spanId, handlerSpan, 'the handler runs inside the consumer span');
  // the fan-out consumers of the earlier test got the same event: every one descends from the producer
  t.ok(consumers.length >= 2, `${consumers.length} consumer spans for one event`);
  for (const c of consumers)
    t.equal(c.parentSpanContext?.spanId, producer?.spanContext().spanId, `${c.attributes['messaging.consumer.group.name']} is a child of the producer`);
  t.equal(producer?.attributes['messaging.system'], 'nats');
  t.equal(producer?.attributes['messaging.destination.name'], Subjects.deleted);
  t.ok(producer?.attributes['messaging.message.id'], 'the message id is recorded');
});
