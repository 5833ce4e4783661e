// The streams at start: a consumer an earlier version made and nothing reads any more is removed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startNatsServer } from '@reel/stack/nats-server';
import { until } from '@reel/stack';
import t from 'tap';
import { ensureVideoStream, LIVE_STREAM, Subjects, VIDEO_STREAM, WORK_STREAM } from '../src/mod.ts';

const dir = mkdtempSync(join(tmpdir(), 'reel-stream-'));
const server = await startNatsServer({ dir });
const nc = await connect({ servers: server.url });
t.teardown(async () => {
  await nc.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

t.test('the retired `thumbnails` consumer (images come from the chunk encodes now) is removed at start; others stay', async (t) => {
  await ensureVideoStream(nc);
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(VIDEO_STREAM, { durable_name: 'thumbnails', filter_subject: Subjects.ingested, ack_policy: AckPolicy.Explicit });
  await jsm.consumers.add(VIDEO_STREAM, { durable_name: 'analytics', filter_subject: 'video.>', ack_policy: AckPolicy.Explicit });
  await ensureVideoStream(nc);
  const names = (await jsm.consumers.list(VIDEO_STREAM).next()).map((c) => c.name).sort();
  t.same(names, ['analytics'], 'a subscriber of its own is left alone');
  await ensureVideoStream(nc);
  t.pass('again, with nothing to remove');
});

t.test('WORK captures the known work subjects only: garbage on another work subject is refused, not kept for 30 days', async (t) => {
  await ensureVideoStream(nc);
  const js = jetstream(nc);
  await js.publish(Subjects.transcodeRequested, '{}');
  const refused = await js.publish('work.nonsense', '{}').catch((err: unknown) => err);
  t.ok(refused instanceof Error, `refused: ${(refused as Error).message}`);
  const jsm = await jetstreamManager(nc);
  t.same((await jsm.streams.info(WORK_STREAM)).config.subjects, ['work.transcode.requested', 'work.audio.requested']);
});

t.test('LIVE is kept on file, so it and its consumers outlive a NATS restart; a LIVE made in memory by an earlier version is made again', async (t) => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(LIVE_STREAM);
  await jsm.streams.add({ name: LIVE_STREAM, subjects: ['live.>'], storage: StorageType.Memory });
  await ensureVideoStream(nc);
  t.equal((await jsm.streams.info(LIVE_STREAM)).config.storage, StorageType.File);
  await jsm.consumers.add(LIVE_STREAM, { durable_name: 'catalog-live', filter_subject: Subjects.progress, ack_policy: AckPolicy.Explicit });
  await server.stop();
  await server.start();
  await until(
    'NATS back',
    async () =>
      (await jetstreamManager(nc)
        .then((m) => m.streams.info(LIVE_STREAM))
        .catch(() => undefined)) !== undefined,
    { timeoutMs: 20_000 },
  );
  const again = await jetstreamManager(nc);
  t.equal((await again.consumers.info(LIVE_STREAM, 'catalog-live')).name, 'catalog-live', 'the stream and its consumer are there after the restart');
});
