// Poison messages: bytes no service should choke on, on every subject a service listens to.
import { randomBytes, randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { registry } from '@reel/events';
import type { Scenario } from './harness.ts';

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

export const poisonScenario: Scenario = {
  name: 'poison-messages',
  fault:
    'poison on every video.* subject and unknown ones (not JSON, null, arrays, numbers, wrong types, 900 KB, bad UTF-8, bad traceparent), garbage queries; then a normal upload',
  async run(ctx) {
    const js = jetstream(ctx.nc);
    const subjects = [...Object.keys(registry), 'video.unknown', 'video.transcode.unknown', 'video.a.b.c'];
    let published = 0;
    const failures = new Set<string>();
    for (let round = 0; round < 2; round++) {
      for (const subject of subjects) {
        for (const p of poisonPayloads(subject)) {
          // the big ones once per subject: hundreds of MB would only test the disk
          if (round > 0 && p.bytes.length > 100 * KiB) continue;
          const h = headers();
          if (round > 0) h.set('traceparent', 'garbage-trace-context');
          await js.publish(subject, p.bytes, { msgID: randomUUID(), headers: h }).then(
            () => published++,
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
    ctx.note(`${published} poison events on ${subjects.length} subjects, ${asked} poison queries`);
    if (failures.size) ctx.note(`not accepted by JetStream: ${[...failures].slice(0, 2).join('; ')}`);
    ctx.faultEnded();
    const health = await fetch(`${ctx.platform.url}/v1/health`).then(
      (r) => r.json() as Promise<{ status: string }>,
      () => ({ status: 'no answer' }),
    );
    ctx.note(`health right after: ${health.status}`);
    const up = await ctx.upload(ctx.clip(6), 'after poison');
    if (up.status !== 202) ctx.problem(`an upload after the poison answered ${up.status}`);
  },
};
