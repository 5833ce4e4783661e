import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { until } from '@reel/stack';
import { startNatsServer } from '@reel/stack/nats-server';
import t from 'tap';
import { consume, createPublisher, ensureVideoStream, silentLogger, Subjects, VIDEO_STREAM } from '../src/mod.ts';
import { fixtures } from './fixtures.ts';

// The store is lost under a running consumer (its stream deleted, as a NATS without its volume
// would come back): the consumer makes the stream and itself again, and events published after
// are handled, instead of the consumer failing its fetches forever.
const dir = mkdtempSync(join(tmpdir(), 'reel-heal-'));
const server = await startNatsServer({ dir });
const nc = await connect({ servers: server.url });
t.teardown(async () => {
  await nc.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});
const restore = () => ensureVideoStream(nc);
await restore();
const publisher = createPublisher(nc);
const uploaded = (n: number) => ({ ...fixtures['video.uploaded'].valid, videoId: `6f1c2d3e-4a5b-4c7d-8e9f-${String(n).padStart(12, '0')}` });

t.test('a consumer whose stream is deleted makes it and itself again', async (t) => {
  const seen: string[] = [];
  const sub = await consume(nc, {
    durable: 'healing',
    filter: Subjects.uploaded,
    handlers: { [Subjects.uploaded]: async (d) => void seen.push(d.videoId) },
    log: silentLogger,
    publisher,
    stage: 'ingest',
    restore,
  });
  t.teardown(() => sub.stop(100));
  await publisher.publish(Subjects.uploaded, uploaded(1));
  await until('the first event', () => seen.length === 1);

  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(VIDEO_STREAM);
  // nothing here makes the stream again: only the consumer can
  const info = await until('the stream and the consumer made again', () => jsm.consumers.info(VIDEO_STREAM, 'healing'), {
    timeoutMs: 30_000,
    retryErrors: true,
  });
  t.equal(info.config.durable_name, 'healing', 'the durable consumer is back');
  await publisher.publish(Subjects.uploaded, uploaded(2));
  await until('an event published after the loss', () => seen.length === 2, { timeoutMs: 15_000 });
  t.same(seen, [uploaded(1).videoId, uploaded(2).videoId], 'both events handled, once each');
});
