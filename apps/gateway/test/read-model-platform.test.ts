import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kvm, KvWatchInclude } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import { until } from '@reel/testing';
import t from 'tap';
import { RECORD_BUCKET } from '@reel/events';

// The real platform: the catalog writes each projected record to its bucket, the gateway answers
// from memory. Reads keep working with the catalog stopped; a delete reaches the gateway's answers
// within 100 ms of the catalog's write to the bucket.
t.test('reads from the gateway memory: own writes, privacy, deletes', async (t) => {
  const platform = await startTestPlatform(t.teardown);
  const alice = { authorization: `Bearer ${await platform.token('alice')}` };
  const bob = { authorization: `Bearer ${await platform.token('bob')}` };
  const file = join(platform.infra.dir, 'not-really-a-video.mp4');
  writeFileSync(file, randomBytes(64 * 1024));
  const up = await uploadFile(platform.url, await platform.token('alice'), file, { title: 'first' });
  t.equal(up.status, 202);
  const { id } = (await up.json()) as { id: string };
  await waitForVideo(platform.url, await platform.token('alice'), id, ['processing', 'waiting_upload', 'failed', 'ready'], 30_000);
  const get = (headers: Record<string, string>) => fetch(`${platform.url}/v1/videos/${id}`, { headers });

  // the owner's PATCH, then an immediate read: the change is there
  const patched = await fetch(`${platform.url}/v1/videos/${id}`, {
    method: 'PATCH',
    headers: { ...alice, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'renamed' }),
  });
  t.equal(patched.status, 200);
  const read = await get(alice);
  t.equal(read.status, 200);
  t.equal(((await read.json()) as { title: string }).title, 'renamed');

  // served from memory: the catalog can be away; someone else still cannot see the private video
  await platform.apps.app('catalog').stop();
  t.equal((await get(alice)).status, 200, 'the owner reads it with the catalog stopped');
  t.equal((await get(bob)).status, 404, 'a private video is not_found to others');
  t.equal((await get({})).status, 404, 'and to anonymous callers');
  await platform.apps.app('catalog').start();

  // the bucket's delete marker, seen by the test; the gateway must answer 404 within 100 ms of it
  const nc = await connect({ servers: platform.env.NATS_URL?.split(',') ?? [] });
  t.teardown(() => nc.close());
  const kv = await new Kvm(nc).open(RECORD_BUCKET);
  const watch = await kv.watch({ key: id, include: KvWatchInclude.UpdatesOnly });
  const deletedAt = (async () => {
    for await (const e of watch) if (e.operation !== 'PUT') return Date.now();
    return Number.NaN;
  })();
  const del = await fetch(`${platform.url}/v1/videos/${id}`, { method: 'DELETE', headers: alice });
  t.equal(del.status, 204);
  const marked = await deletedAt;
  watch.stop();
  // asked every 5 ms: the wait is also the measurement, so its step is the resolution of the 100 ms bound
  let lastStatus = 0;
  const goneAt = await until(
    'the gateway to answer 404 for the deleted video',
    async () => {
      lastStatus = (await get(alice)).status;
      return lastStatus === 404 && Date.now();
    },
    {
      timeoutMs: Math.max(0, marked + 2000 - Date.now()),
      everyMs: 5,
      explain: () => `still ${lastStatus} ${Date.now() - marked} ms after the catalog's write`,
    },
  );
  t.ok(goneAt - marked < 100, `404 ${goneAt - marked} ms after the catalog's write`);
});
