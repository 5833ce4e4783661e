import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Client } from 'minio';
import postgres from 'postgres';
import t from 'tap';
import { until } from '@reel/testing';
import { startInfra } from '../src/infra.ts';

// What fault tests and the chaos suite rely on: every part started by startInfra can be stopped
// or killed and started again on the same address with its data, and a three-node NATS cluster
// keeps serving JetStream when one node dies.
const dir = mkdtempSync(join(tmpdir(), 'reel-restart-'));
chmodSync(dir, 0o755);
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const infra = await startInfra({ dir, natsNodes: 3, database: 'reel_restart' });
t.teardown(infra.stop);
/** A restarted server takes a moment to accept work: until then a call fails, which is "not yet". */
const BACK = { timeoutMs: 20_000, everyMs: 200, retryErrors: true };

t.test('the parts started, by name', async (t) => {
  t.same([...infra.parts.keys()].sort(), ['nats-1', 'nats-2', 'nats-3', 'postgres', 's3']);
  t.equal(infra.env.NATS_URL?.split(',').length, 3, 'NATS_URL lists the three nodes');
  t.equal(infra.env.NATS_STREAM_REPLICAS, '3');
  for (const part of infra.parts.values()) t.ok(await part.health(), `${part.name} answers`);
});

t.test('Postgres stopped and started keeps its port and data', async (t) => {
  const pg = infra.parts.get('postgres');
  if (!pg) throw new Error('no postgres');
  const sql = postgres(infra.env.DATABASE_URL ?? '', { max: 1, onnotice: () => {}, connect_timeout: 2 });
  t.teardown(() => sql.end({ timeout: 1 }));
  await sql`create table kept (v text)`;
  await sql`insert into kept values ('before')`;
  await pg.stop();
  t.notOk(pg.running, 'stopped');
  t.notOk(await pg.health(), 'not healthy while stopped');
  await t.rejects(sql`select 1`, 'unreachable while stopped');
  await pg.start();
  t.ok(pg.running, 'running again');
  t.ok(await until('Postgres to answer', () => pg.health(), BACK), 'healthy again');
  const rows = await until('the row', async () => [...(await sql<{ v: string }[]>`select v from kept`)], BACK);
  t.same(
    rows.map((r) => r.v),
    ['before'],
    'the row survived',
  );
});

t.test('the S3 server killed and started keeps its endpoint and objects', async (t) => {
  const s3 = infra.parts.get('s3');
  if (!s3) throw new Error('no s3');
  const u = new URL(infra.env.S3_ENDPOINT ?? '');
  const client = new Client({
    endPoint: u.hostname,
    port: Number(u.port),
    useSSL: false,
    region: infra.env.S3_REGION,
    accessKey: infra.env.S3_ACCESS_KEY ?? '',
    secretKey: infra.env.S3_SECRET_KEY ?? '',
  });
  await client.makeBucket('kept');
  await client.putObject('kept', 'a.txt', Buffer.from('hello'));
  await s3.kill();
  t.notOk(await s3.health(), 'not healthy while down');
  await t.rejects(client.statObject('kept', 'a.txt'), 'unreachable while down');
  await s3.start();
  t.ok(await s3.health(), 'healthy once started');
  const stat = await until('the object', () => client.statObject('kept', 'a.txt'), BACK);
  t.equal(stat.size, 5, 'the object survived');
});

t.test('a JetStream stream at 3 replicas survives the loss of any one node', async (t) => {
  const nodes = ['nats-1', 'nats-2', 'nats-3'].map((n) => infra.parts.get(n));
  const nc = await connect({ servers: infra.env.NATS_URL?.split(',') ?? [], maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  t.teardown(() => nc.close());
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'KEPT', subjects: ['kept.>'], num_replicas: 3 });
  const js = jsm.jetstream();
  for (const [i, node] of nodes.entries()) {
    if (!node) throw new Error('missing node');
    await node.kill();
    t.notOk(await node.health(), `${node.name} not healthy while down`);
    const ack = await until('a publish', () => js.publish('kept.x', `while ${node.name} was down`), BACK);
    t.equal(ack.seq, i + 1, `published while ${node.name} was down`);
    await node.start();
    t.ok(await node.health(), `${node.name} healthy once started`);
    // R3 tolerates one lost node at a time: the next is killed once this one has caught up
    const info = await until(
      'the replicas',
      async () => {
        const s = await jsm.streams.info('KEPT');
        if (s.cluster?.replicas?.length !== 2 || !s.cluster.replicas.every((r) => r.current)) throw new Error('replicas not current yet');
        return s;
      },
      BACK,
    );
    t.equal(info.state.messages, i + 1, `${node.name} back and current, every message kept`);
  }
  const info = await jsm.streams.info('KEPT');
  t.equal(info.config.num_replicas, 3);
});
