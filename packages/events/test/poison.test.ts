import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { makeClip, startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import t from 'tap';
import { registry, STREAMS } from '../src/mod.ts';

// Anything on the bus, on any subject, is logged and dropped (or terminated): nothing stalls a
// service. The whole platform runs; hundreds of bad messages go out on every video.* subject;
// then every service must still answer and a real upload must still become ready.
const dir = mkdtempSync(join(tmpdir(), 'reel-poison-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const someVideo = '0f0e0d0c-0b0a-4908-8706-050403020100';
const envelope = (type: string, data: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: `poison-${Math.random()}`, type, version: 1, occurredAt: new Date().toISOString(), data, ...extra });

/** Bodies that are not what the subject's schema says, from bytes that are not JSON to valid envelopes with wrong data. */
function poisons(subject: string): (string | Uint8Array)[] {
  return [
    'not json',
    '',
    'null',
    '[]',
    '[1,2,3]',
    '42',
    '"a string"',
    'true',
    '{}',
    '{"id":1}',
    new Uint8Array([0xff, 0xfe, 0xfd, 0x00, 0xc3, 0x28]),
    JSON.stringify({ data: null }),
    envelope(subject, null),
    envelope(subject, []),
    envelope(subject, 'text'),
    envelope(subject, { videoId: 42 }),
    envelope(subject, { videoId: someVideo }),
    envelope(subject, { videoId: someVideo, stage: 'transcode', percent: 'half' }),
    envelope('video.other', { videoId: someVideo }),
    envelope(subject, { videoId: someVideo }, { version: 99 }),
    envelope(subject, { videoId: someVideo }, { version: 'one' }),
    envelope(subject, { videoId: '../../etc/passwd' }),
    JSON.stringify({ id: 'x', type: subject, version: 1, occurredAt: 'yesterday', data: {} }),
    // close to the server's max payload (1 MiB)
    `{"junk":"${'x'.repeat(900 * 1024)}"}`,
  ];
}

t.test('garbage on every subject stalls nothing; an upload still becomes ready', async (t) => {
  const platform = await startTestPlatform(t.teardown);
  const token = await platform.token('poison-tester');
  const nc = await connect({ servers: platform.env.NATS_URL?.split(',') });
  t.teardown(() => nc.close());
  const subjects = [...Object.keys(registry), 'video.unknown', 'video.deleted.extra', 'video.uploaded.v2'];
  let sent = 0;
  for (let round = 0; round < 3; round++) {
    for (const subject of subjects) {
      for (const body of poisons(subject)) {
        // through core NATS: the stream stores it as it stores any publish on video.>
        nc.publish(subject, body);
        sent++;
      }
    }
  }
  await nc.flush();
  t.ok(sent >= 300, `${sent} bad messages published`);

  // every service still answers. Each one is reading ~70 MB of junk just now, so one may miss
  // /v1/health's 1 s on a loaded machine (CI saw it once): it must answer again within 15 s
  const allUp = { gateway: 'up', ingest: 'up', transcoder: 'up', packager: 'up', catalog: 'up', webhooks: 'up' };
  const started = Date.now();
  let services: Record<string, string> = {};
  do {
    const health = await fetch(`${platform.url}/v1/health`);
    services = ((await health.json()) as { services: Record<string, string> }).services;
  } while (Object.values(services).some((s) => s !== 'up') && Date.now() - started < 15_000);
  t.same(services, allUp, `every service answers /v1/health (after ${Date.now() - started} ms)`);

  // and the pipeline works end to end
  const res = await uploadFile(platform.url, token, makeClip(dir, 'landscape', 3), { title: 'after the poison' });
  t.equal(res.status, 202);
  const { id } = (await res.json()) as { id: string };
  const video = await waitForVideo(platform.url, token, id, ['ready', 'failed'], 180_000);
  t.equal(video.status, 'ready', `ready (error: ${JSON.stringify(video.error)})`);

  // nothing bad is left waiting for an acknowledgement on any consumer: every one drains (a
  // consumer may still be retrying an event for a moment, e.g. webhooks waiting for an owner)
  const jsm = await jetstreamManager(nc);
  const inFlight = async () => {
    const left: Record<string, number> = {};
    for (const stream of STREAMS) {
      for await (const c of jsm.consumers.list(stream)) left[c.name] = c.num_ack_pending + c.num_pending;
    }
    return left;
  };
  const deadline = Date.now() + 60_000;
  let left = await inFlight();
  while (Object.values(left).some((n) => n > 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    left = await inFlight();
  }
  for (const [name, n] of Object.entries(left)) t.equal(n, 0, `${name}: drained, no message stuck in flight`);
});
