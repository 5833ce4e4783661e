import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { until } from '@reel/stack';
import { startNatsCluster } from '@reel/stack/nats-server';
import t from 'tap';
import { followBucket } from '../src/mod.ts';

// A followed bucket on a three-node cluster: the node holding the watch's consumer (one replica,
// never on the follower's own node here) is killed. A plain nats.js watch goes silent for good;
// followBucket notices within a few seconds and delivers every later write, none twice.
const dir = mkdtempSync(join(tmpdir(), 'reel-follow-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const cluster = await startNatsCluster({ dir, size: 3 });
t.teardown(() => cluster.down());
const [home, ...others] = cluster.nodes;
if (!home) throw new Error('no node');

const opts = { maxReconnectAttempts: -1, reconnectTimeWait: 250 };
// the follower talks to node 1 only; the writer to every node
const ncF = await connect({ servers: home.url, ...opts });
const ncW = await connect({ servers: cluster.nodes.map((n) => n.url), ...opts });
t.teardown(async () => {
  await ncF.close();
  await ncW.close();
});
const bucket = (nc: typeof ncF) =>
  until('the bucket to be placed on the cluster', () => new Kvm(nc).create('FOLLOW', { replicas: 3, history: 1 }), {
    timeoutMs: 30_000,
    retryErrors: true,
  }) as Promise<KV>;
const writer = await bucket(ncW);
const reader = await bucket(ncF);
await writer.put('before', '0');

t.test('a follower keeps receiving after the node holding its watch dies', async (t) => {
  const seen: string[] = [];
  let loaded = false;
  // a follower whose consumer sits on another node: made again until placement gives one
  const jsm = await jetstreamManager(ncW);
  let follower: Awaited<ReturnType<typeof followBucket>> | undefined;
  let victim: (typeof others)[number] | undefined;
  for (let i = 0; i < 10 && !victim; i++) {
    await follower?.close();
    seen.length = 0;
    follower = await followBucket(reader, { from: 'start', onEntry: (e) => seen.push(`${e.key}=${e.string()}`), onLoaded: () => (loaded = true) });
    for await (const c of jsm.consumers.list('KV_FOLLOW')) victim = others.find((n) => n.serverName === c.cluster?.leader);
  }
  if (!follower || !victim) throw new Error('every watch consumer was placed on the follower’s own node');
  t.teardown(() => follower?.close());
  await until('the content at start', () => loaded && seen.length === 1, { timeoutMs: 5000 });
  t.same(seen, ['before=0'], 'what the bucket held at start');

  await victim.kill();
  // restarted whatever happens below, so the next test has its three nodes
  t.teardown(() => victim?.start());
  const writes = Array.from({ length: 5 }, (_, i) => `k${i}=${i}`);
  for (const w of writes) {
    const [k, v] = w.split('=') as [string, string];
    await until(`the write ${w}`, () => writer.put(k, v), { timeoutMs: 30_000, retryErrors: true });
  }
  // a loaded machine (the whole suite at once) may take a while to elect new leaders
  await until('every write after the kill', () => seen.length >= 1 + writes.length, {
    timeoutMs: 60_000,
    explain: () => `seen ${seen.join(' ')}; restarts ${follower?.restarts}`,
  });
  t.same(seen, ['before=0', ...writes], 'every later write, in order, none twice');
  t.ok(follower.restarts >= 1, `the watch was made again (${follower.restarts})`);
});

t.test("from 'now' delivers only what is written after, and close stops it", async (t) => {
  const seen: string[] = [];
  const follower = await followBucket(reader, { from: 'now', onEntry: (e) => seen.push(e.key) });
  await until('a write', () => writer.put('after', '1'), { timeoutMs: 30_000, retryErrors: true });
  await until('the write after', () => seen.includes('after'), { timeoutMs: 30_000 });
  t.notOk(seen.includes('before'), 'nothing from before');
  await follower.close();
  await until('a write after close', () => writer.put('closed', '1'), { timeoutMs: 30_000, retryErrors: true });
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(seen.includes('closed'), 'nothing after close');
});
