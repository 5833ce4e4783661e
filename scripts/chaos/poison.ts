// Poison messages: bytes no service should choke on, on every subject a service listens to (facts,
// work items, chatter) and on subjects none does.
import { randomBytes, randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { registry, STREAMS, WORK_STREAM } from '@reel/events';
import type { Ctx, Scenario } from './harness.ts';
import { poll } from './harness.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const KiB = 1024;

/** Payloads for `subject`: not JSON, JSON that is not an object, wrong types, huge, odd bytes. */
export function poisonPayloads(subject: string): { what: string; bytes: Uint8Array }[] {
  const env = (o: Record<string, unknown>) => enc(JSON.stringify({ id: randomUUID(), type: subject, version: 1, occurredAt: new Date().toISOString(), ...o }));
  return [
    { what: 'not JSON', bytes: enc('this is not json {') },
    { what: 'empty', bytes: new Uint8Array() },
    { what: 'null', bytes: enc('null') },
    { what: 'true', bytes: enc('true') },
    { what: 'number', bytes: enc('42') },
    { what: 'string', bytes: enc('"video"') },
    { what: 'empty array', bytes: enc('[]') },
    { what: 'array', bytes: enc('[1,{"videoId":null},[]]') },
    { what: 'empty object', bytes: enc('{}') },
    { what: 'wrong envelope types', bytes: enc('{"id":123,"type":[],"version":"1","occurredAt":false,"data":"x"}') },
    { what: 'data null', bytes: env({ data: null }) },
    { what: 'data array', bytes: env({ data: [] }) },
    { what: 'data missing fields', bytes: env({ data: {} }) },
    { what: 'data wrong types', bytes: env({ data: { videoId: randomUUID(), ownerId: 7, title: {}, stage: 1, percent: 'x', ladder: 'no' } }) },
    { what: 'version from the future', bytes: env({ version: 99, data: { videoId: randomUUID() } }) },
    { what: 'type of another subject', bytes: env({ type: 'video.deleted', data: { videoId: randomUUID() } }) },
    { what: 'prototype pollution', bytes: enc(`{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"id":"${randomUUID()}"}`) },
    { what: 'deep nesting', bytes: enc(`${'['.repeat(20_000)}${']'.repeat(20_000)}`) },
    { what: 'invalid UTF-8', bytes: Uint8Array.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x7b]) },
    { what: '900 KB JSON', bytes: env({ data: { videoId: randomUUID(), title: 'x'.repeat(900 * KiB) } }) },
    { what: '900 KB random bytes', bytes: randomBytes(900 * KiB) },
  ];
}

/** Subjects of every stream that no contract names: each stream must cope with them too. */
const UNKNOWN_SUBJECTS = ['video.unknown', 'video.transcode.unknown', 'video.a.b.c', 'work.unknown', 'work.transcode.unknown', 'live.unknown'];

interface Published {
  subject: string;
  stream: string;
  seq: number;
  what: string;
}

export const poisonScenario: Scenario = {
  name: 'poison-messages',
  fault:
    'poison on every video.*, work.* and live.* subject and unknown ones (not JSON, null, arrays, numbers, wrong types, 900 KB, bad UTF-8, bad traceparent), garbage queries; then a 20 s upload (3 chunks + audio)',
  async run(ctx) {
    const js = jetstream(ctx.nc);
    const subjects = [...Object.keys(registry), ...UNKNOWN_SUBJECTS];
    const reasons = ctx.tapLogs(/invalid message terminated/);
    const published: Published[] = [];
    const failures = new Set<string>();
    for (let round = 0; round < 2; round++) {
      for (const subject of subjects) {
        for (const p of poisonPayloads(subject)) {
          // the big ones once per subject: hundreds of MB would only test the disk
          if (round > 0 && p.bytes.length > 100 * KiB) continue;
          const h = headers();
          if (round > 0) h.set('traceparent', 'garbage-trace-context');
          await js.publish(subject, p.bytes, { msgID: randomUUID(), headers: h }).then(
            (ack) => published.push({ subject, stream: ack.stream, seq: ack.seq, what: p.what }),
            (err: Error) => failures.add(`${subject} ${p.what}: ${err.message}`),
          );
        }
      }
    }
    // request-reply queries and health get garbage too (answers or timeouts are both fine)
    const queries = [
      'reel.catalog.video.get',
      'reel.catalog.video.list',
      'reel.health.catalog',
      'reel.health.ingest',
      'reel.health.transcoder',
      'reel.health.packager',
    ];
    let asked = 0;
    await Promise.all(
      queries.flatMap((subject) =>
        poisonPayloads(subject)
          .filter((p) => p.bytes.length < 100 * KiB)
          .map((p) => {
            asked++;
            return ctx.nc.request(subject, p.bytes, { timeout: 2000 }).catch(() => undefined);
          }),
      ),
    );
    const work = published.filter((p) => p.stream === WORK_STREAM).length;
    ctx.note(`${published.length} poison events on ${subjects.length} subjects (${work} in WORK), ${asked} poison queries`);
    if (failures.size) ctx.note(`not accepted by JetStream: ${[...failures].slice(0, 2).join('; ')}`);
    ctx.faultEnded();
    const health = await fetch(`${ctx.platform.url}/v1/health`).then(
      (r) => r.json() as Promise<{ status: string }>,
      () => ({ status: 'no answer' }),
    );
    ctx.note(`health right after: ${health.status}`);
    await judgeTerminations(ctx, published, reasons);
    // the workers still work: a video of several chunks needs both work consumers
    const up = await ctx.upload(ctx.clip(20), 'after poison');
    if (up.status !== 202) ctx.problem(`an upload after the poison answered ${up.status}`);
  },
};

/**
 * Every poison message is terminated at its first delivery by every durable consumer whose filter
 * takes it (JetStream's MSG_TERMINATED advisory, `deliveries` 1), never left to run out of
 * deliveries (MAX_DELIVERIES), and the service logs why (`invalid message terminated` with a
 * `reason`, by subject and stream sequence). A message no consumer takes is reported: in WORK
 * (work-queue retention) it stays until max_age.
 */
async function judgeTerminations(ctx: Ctx, published: Published[], reasons: { app: string; line: string }[]): Promise<void> {
  const consumers: { stream: string; name: string; filter: string }[] = [];
  for (const stream of STREAMS)
    for await (const c of ctx.jsm.consumers.list(stream))
      if (c.config.durable_name) consumers.push({ stream, name: c.name, filter: c.config.filter_subject ?? '>' });
  const takers = (p: Published) => consumers.filter((c) => c.stream === p.stream && matches(c.filter, p.subject));
  const expected = published.reduce((n, p) => n + takers(p).length, 0);
  const key = (stream: string, seq: number, consumer: string) => `${stream}#${seq}#${consumer}`;
  const terminated = () => new Set(ctx.advisories.terminated.map((a) => key(a.stream, a.stream_seq, a.consumer)));
  const seen = await poll(
    async () => published.flatMap((p) => takers(p).map((c) => key(p.stream, p.seq, c.name))).filter((k) => terminated().has(k)).length,
    (n) => n >= expected,
    60_000,
  );
  const done = terminated();
  const missed = new Map<string, number>();
  for (const p of published) for (const c of takers(p)) if (!done.has(key(p.stream, p.seq, c.name))) missed.set(c.name, (missed.get(c.name) ?? 0) + 1);
  ctx.note(`${seen} of ${expected} (poison message, consumer) pairs terminated within 60 s`);
  for (const [consumer, n] of missed) ctx.problem(`${consumer}: ${n} poison message(s) not terminated within 60 s`);
  const poisoned = new Set(published.map((p) => `${p.stream}#${p.seq}`));
  const redelivered = ctx.advisories.terminated.filter((a) => poisoned.has(`${a.stream}#${a.stream_seq}`) && a.deliveries > 1);
  if (redelivered.length)
    ctx.problem(`${redelivered.length} poison message(s) terminated only after ${Math.max(...redelivered.map((a) => a.deliveries))} deliveries`);
  const exhausted = ctx.advisories.maxDeliveries.filter((a) => poisoned.has(`${a.stream}#${a.stream_seq}`));
  if (exhausted.length)
    ctx.problem(`${exhausted.length} poison message(s) redelivered until max deliveries (${[...new Set(exhausted.map((a) => a.consumer))].join(', ')})`);
  // why, in the consuming service's log: one line with a reason per termination
  const logged = new Map<string, number>();
  for (const { line } of reasons) {
    const l = parseLine(line);
    if (l?.reason && l.subject && l.seq) logged.set(`${l.subject}#${l.seq}`, (logged.get(`${l.subject}#${l.seq}`) ?? 0) + 1);
  }
  const unexplained = published.filter(
    (p) => (logged.get(`${p.subject}#${p.seq}`) ?? 0) < takers(p).filter((c) => done.has(key(p.stream, p.seq, c.name))).length,
  );
  if (unexplained.length)
    ctx.problem(`${unexplained.length} poison termination(s) without a logged reason (e.g. ${unexplained[0]?.subject} ${unexplained[0]?.what})`);
  const untaken = published.filter((p) => takers(p).length === 0);
  const stranded = untaken.filter((p) => p.stream === WORK_STREAM);
  ctx.note(`taken by no consumer: ${[...new Set(untaken.map((p) => p.subject))].join(', ') || 'none'}`);
  if (stranded.length)
    ctx.problem(
      `PLATFORM: ${stranded.length} garbage message(s) on ${[...new Set(stranded.map((p) => p.subject))].join(', ')} stay in WORK: the stream takes every work.> subject, no consumer takes these, so nobody terminates them and the work queue keeps them until max_age (30 days)`,
    );
}

/** NATS subject matching of a consumer filter (`*` one token, `>` the rest). */
function matches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

function parseLine(line: string): { subject?: string; seq?: number; reason?: string } | undefined {
  try {
    return JSON.parse(line) as { subject?: string; seq?: number; reason?: string };
  } catch {
    return undefined;
  }
}
