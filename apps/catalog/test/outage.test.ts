// Integration: the real catalog (bootService + buildApp, as main.ts runs it) while its Postgres is
// stopped and started again. It must stop pulling instead of nak-storming, answer `unavailable`,
// and catch up by itself.
import { type EventData, getVideoQuery, request, type Subject, VIDEO_STREAM } from '@reel/events';
import { until } from '@reel/stack';
import t from 'tap';
import { fixtures } from '../../../packages/events/test/fixtures.ts';
import { bootCatalog } from './boot.ts';

const { infra, nc, publisher, jsm } = await bootCatalog(t);
const pg = infra.parts.get('postgres');
if (!pg) throw new Error('the test infrastructure did not start its own Postgres');

const ID = '7a1c2d3e-4a5b-4c7d-8e9f-0a1b2c3d4e5f';
const publish = <K extends Subject>(subject: K, data: Partial<EventData<K>> = {}) =>
  publisher.publish(subject, { ...fixtures[subject].valid, videoId: ID, ...data } as EventData<K>);
const get = () => request(nc, getVideoQuery, { id: ID, viewer: 'u1' });
/** A query may fail (unavailable) while Postgres comes back: that is "not yet". */
const WHILE_POSTGRES_RESTARTS = { timeoutMs: 30_000, everyMs: 200, retryErrors: true };

t.test('Postgres stopped mid-pipeline: no nak storm, 503-able answers, and the video ends ready', async (t) => {
  await publish('video.uploaded');
  await until('processing', async () => (await get()).status === 'processing', WHILE_POSTGRES_RESTARTS);
  const before = await jsm.consumers.info(VIDEO_STREAM, 'catalog');

  await pg.stop();
  await t.rejects(get(), { code: 'unavailable', message: 'the catalog database is unavailable' }, 'reads say unavailable, not internal');
  await publish('video.ingested');
  await publish('live.progress', { percent: 50 });
  await publish('video.thumbnails.created');
  await publish('video.packaged');
  // a pull already open when Postgres went away takes what arrives; after that, nothing is pulled
  await new Promise((r) => setTimeout(r, 4000));
  const mid = await jsm.consumers.info(VIDEO_STREAM, 'catalog');
  await new Promise((r) => setTimeout(r, 6000));
  const during = await jsm.consumers.info(VIDEO_STREAM, 'catalog');
  const deliveries = during.delivered.consumer_seq - before.delivered.consumer_seq;
  t.ok(deliveries <= 8, `${deliveries} deliveries of 4 new events in 10 s of outage (no nak storm)`);
  t.equal(during.delivered.consumer_seq, mid.delivered.consumer_seq, 'none at all in the last 6 s: the consumer waits for the database');
  t.ok(during.num_redelivered <= 4, `${during.num_redelivered} redelivered`);

  const restarting = Date.now();
  await pg.start();
  const restarted = Date.now();
  t.comment(`Postgres took ${restarted - restarting} ms to start again`);
  const v = await until(
    'ready after the outage',
    async () => {
      const r = await get();
      return r.status === 'ready' && r;
    },
    WHILE_POSTGRES_RESTARTS,
  );
  t.match(v, { status: 'ready', master: fixtures['video.packaged'].valid.master.key, images: { poster: 'p.jpg' } });
  t.comment(`ready ${Date.now() - restarted} ms after Postgres was back`);
  // events that do not make it ready (a progress tick) may still be waiting out a nak delay
  await until(
    'every event projected',
    async () => {
      const info = await jsm.consumers.info(VIDEO_STREAM, 'catalog');
      return info.num_pending + info.num_ack_pending === 0;
    },
    WHILE_POSTGRES_RESTARTS,
  );
  t.same((await get()).updatedAt, v.updatedAt, 'and nothing moved it back');
});
