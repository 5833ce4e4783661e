import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { VIDEO_STREAM } from '@reel/events';
import { checkHls, makeClip, startTestPlatform, until, uploadFile, waitForHealthy, waitForVideo } from '@reel/stack';
import t from 'tap';

// The platform on a three-node JetStream cluster (three nats-server processes on loopback): the
// node leading the video stream is killed (kill -9) while the video is being processed; every
// service reconnects to a surviving node, the stream elects another leader, and the video
// still becomes ready with every segment its playlists name.
const dir = mkdtempSync(join(tmpdir(), 'reel-cluster-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('a video becomes ready although a NATS node dies mid-pipeline', async (t) => {
  const platform = await startTestPlatform(t.teardown, { natsCluster: 3 });
  const token = await platform.token('alice');
  const nodes = [...platform.infra.parts.values()].filter((p) => p.name.startsWith('nats-'));
  t.equal(nodes.length, 3, 'three nats-server processes');
  t.equal(platform.env.NATS_URL?.split(',').length, 3, 'the apps know every node');

  const nc = await connect({ servers: platform.env.NATS_URL?.split(',') ?? [], maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  t.teardown(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const before = await jsm.streams.info(VIDEO_STREAM);
  t.equal(before.config.num_replicas, 3, 'the video stream is kept at 3 replicas');
  t.equal((before.cluster?.replicas ?? []).length, 2, 'a leader and two followers');
  const tombstones = await jsm.streams.info('KV_VIDEO_TOMBSTONES');
  t.equal(tombstones.config.num_replicas, 3, 'the tombstone bucket is kept at 3 replicas');
  const records = await jsm.streams.info('KV_VIDEO_RECORDS');
  t.equal(records.config.num_replicas, 3, 'the read model bucket is kept at 3 replicas');

  const res = await uploadFile(platform.url, token, makeClip(dir, 'landscape', 8), { title: 'cluster' });
  t.equal(res.status, 202, 'upload accepted');
  const { id } = (await res.json()) as { id: string };
  // kill when the pipeline is past ingest: the transcoder holds a job, the catalog has events to project
  await waitForVideo(platform.url, token, id, ['processing'], 60_000);
  const stage = await waitForStage(platform.url, token, id, ['transcode', 'package', 'thumbnails'], 60_000);
  const leader = before.cluster?.leader;
  const victim = nodes.find((n) => (n as unknown as { serverName: string }).serverName === leader) ?? nodes[0];
  if (!victim) throw new Error('no node to kill');
  t.comment(`killing ${victim.name} (stream leader ${leader}) during stage ${stage}`);
  await victim.kill();

  const video = (await waitForVideo(platform.url, token, id, ['ready', 'failed'], 90_000)) as { status: string; error?: unknown; playback?: { hls: string } };
  t.equal(video.status, 'ready', `ready (error: ${JSON.stringify(video.error)})`);
  const hls = await checkHls(video.playback?.hls ?? '');
  t.ok(hls.playlists >= 1 && hls.segments >= hls.playlists, `${hls.playlists} playlists, ${hls.segments} segments`);
  t.same(hls.missing, [], 'every playlist and segment the master names is there');
  await waitForHealthy(platform.url, 30_000);
  t.pass('every service answers health on the surviving nodes');

  const after = await jsm.streams.info(VIDEO_STREAM);
  t.equal(after.config.num_replicas, 3, 'still 3 replicas');
  t.not(after.cluster?.leader, leader, 'another node leads the stream');

  // the node comes back and catches up: all three replicas current again
  await victim.start();
  const current = await until(
    'the restarted node to be a current replica',
    async () => {
      const info = await jsm.streams.info(VIDEO_STREAM);
      const replicas = info.cluster?.replicas ?? [];
      return replicas.length === 2 && replicas.every((r) => r.current) ? info : undefined;
    },
    { timeoutMs: 30_000, everyMs: 200, retryErrors: true },
  );
  t.ok(current, 'the restarted node is a current replica again');
});

async function waitForStage(url: string, token: string, id: string, stages: string[], timeoutMs: number): Promise<string> {
  return until(
    `a stage of ${stages.join(', ')}`,
    async () => {
      const res = await fetch(`${url}/v1/videos/${id}`, { headers: { authorization: `Bearer ${token}` } });
      const v = (await res.json()) as { status: string; progress?: { stage?: string } };
      if (v.status !== 'processing') return v.status;
      return stages.includes(v.progress?.stage ?? '') ? v.progress?.stage : undefined;
    },
    { timeoutMs, everyMs: 200, retryErrors: true },
  ).catch(() => 'unknown');
}
