import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { makeClip, startTestPlatform, uploadFile } from '@reel/stack';
import { createStorage, keys, type Storage } from '@reel/storage';
import t from 'tap';
import { ffmpegPids, waitForFfmpeg } from '@reel/media/testing';

async function objectsOf(storage: Storage, videoId: string): Promise<string[]> {
  const found: string[] = [];
  const places: [string, string][] = [
    [storage.sourceBucket, keys.sourcePrefix(videoId)],
    [storage.sourceBucket, keys.workPrefix(videoId)],
    [storage.mediaBucket, keys.mediaPrefix(videoId)],
  ];
  for (const [bucket, prefix] of places) {
    for await (const o of storage.client.listObjectsV2(bucket, prefix, true)) if (o.name) found.push(`${bucket}/${o.name}`);
  }
  return found;
}

// Issue 9.2: after DELETE, whatever was running, nothing of the video remains and nothing more is done for it.
t.test('DELETE while the video is transcoding: its ffmpeg is killed, no object is left, nothing is published after', async (t) => {
  const dir = t.testdir({});
  const workDir = join(dir, 'work');
  mkdirSync(workDir);
  const clip = makeClip(dir, 'landscape', 40);
  const platform = await startTestPlatform((fn) => t.teardown(fn), { env: { WORK_DIR: workDir } });
  const storage = createStorage({ S3_SOURCE_BUCKET: 'reel-sources', S3_MEDIA_BUCKET: 'reel-media', S3_REGION: 'us-east-1', ...platform.env } as never);
  const token = await platform.token('alice');

  // everything published on the platform, as it happens
  const nc = await connect({ servers: platform.env.NATS_URL?.split(',') });
  t.teardown(() => nc.close());
  const seen: { subject: string; videoId?: string; at: number }[] = [];
  nc.subscribe('video.>', {
    callback: (_err, m) => {
      let videoId: string | undefined;
      try {
        videoId = (JSON.parse(new TextDecoder().decode(m.data)) as { data?: { videoId?: string } }).data?.videoId;
      } catch {
        // not ours to judge
      }
      seen.push({ subject: m.subject, videoId, at: Date.now() });
    },
  });

  const res = await uploadFile(platform.url, token, clip);
  t.equal(res.status, 202);
  const { id } = (await res.json()) as { id: string };
  const encoder = await waitForFfmpeg(join(workDir, 'reel-transcode-'), 60_000);
  t.ok(encoder, 'the transcode is under way');
  // let it run a moment, so the thumbnails and progress are out and the encode is well along
  await new Promise((r) => setTimeout(r, 3000));
  t.ok((await objectsOf(storage, id)).length > 0, 'the video has objects before the delete');

  const deletedAt = Date.now();
  const del = await fetch(`${platform.url}/v1/videos/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  t.equal(del.status, 204);

  let ffmpegGoneMs: number | undefined;
  let cleanMs: number | undefined;
  let left: string[] = [];
  while (Date.now() - deletedAt < 60_000) {
    if (ffmpegGoneMs === undefined && ffmpegPids(workDir).length === 0 && ffmpegPids(id).length === 0) ffmpegGoneMs = Date.now() - deletedAt;
    left = await objectsOf(storage, id);
    if (left.length === 0 && ffmpegGoneMs !== undefined) {
      cleanMs = Date.now() - deletedAt;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(ffmpegGoneMs !== undefined, `no ffmpeg runs for the video (${ffmpegGoneMs} ms after DELETE)`);
  t.same(left, [], `no object of the video is left (clean ${cleanMs} ms after DELETE)`);

  // whatever was in flight has had its chance to write or publish: nothing came back
  await new Promise((r) => setTimeout(r, 10_000));
  t.same(await objectsOf(storage, id), [], 'still nothing, 10 s later');
  t.same(ffmpegPids(workDir), [], 'no ffmpeg started again');
  const deletedEvent = seen.find((s) => s.videoId === id && s.subject === 'video.deleted');
  t.ok(deletedEvent, 'video.deleted was published');
  const after = seen.filter((s) => s.videoId === id && s.at > (deletedEvent?.at ?? 0) && s.subject !== 'video.deleted').map((s) => s.subject);
  t.same(after, [], 'nothing was published for the video after video.deleted');
  t.equal((await fetch(`${platform.url}/v1/videos/${id}`, { headers: { authorization: `Bearer ${token}` } })).status, 404);
  t.comment(`DELETE → ffmpeg gone: ${ffmpegGoneMs} ms; → no object left: ${cleanMs} ms; objects left: ${left.length}`);
});
