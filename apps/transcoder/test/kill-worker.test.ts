import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeClip, startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import t from 'tap';
import { ffmpegPids, isRunning, parentOf, waitForFfmpeg } from '@reel/media/testing';

// Issue 9.5: ffmpeg never outlives its worker, and a killed worker's temp files do not stay.
t.test('kill -9 of a transcoder mid-encode: its ffmpeg dies at once, the next start sweeps its temp dir, the video still becomes ready', async (t) => {
  const dir = t.testdir({});
  const workDir = join(dir, 'work');
  mkdirSync(workDir);
  const clip = makeClip(dir, 'landscape', 24);
  const platform = await startTestPlatform((fn) => t.teardown(fn), { env: { WORK_DIR: workDir } });
  const token = await platform.token('alice');
  const res = await uploadFile(platform.url, token, clip);
  t.equal(res.status, 202);
  const { id } = (await res.json()) as { id: string };

  const transcoder = platform.apps.app('transcoder');
  const encoder = await waitForFfmpeg(join(workDir, 'reel-transcode-'), 60_000);
  t.equal(parentOf(encoder), transcoder.pid, 'the encode is the transcoder’s own child');
  // one per chunk under way (TRANSCODE_CONCURRENCY, 2 by default)
  const stale = readdirSync(workDir).filter((d) => d.startsWith('reel-transcode-'));
  t.ok(stale.length >= 1, `${stale.length} work directories in use`);
  const encoders = ffmpegPids(join(workDir, 'reel-transcode-'));

  const killedAt = Date.now();
  await transcoder.kill({ group: false });
  while (encoders.some(isRunning) && Date.now() - killedAt < 10_000) await new Promise((r) => setTimeout(r, 10));
  const ms = Date.now() - killedAt;
  t.notOk(encoders.some(isRunning), `every ffmpeg (${encoders.length}) gone ${ms} ms after kill -9 of its worker`);
  t.ok(ms < 2000, 'within two seconds');
  t.ok(
    stale.every((d) => existsSync(join(workDir, d))),
    'the dead worker’s temp dirs are still there',
  );

  await transcoder.start();
  const restartedAt = Date.now();
  const left = () => stale.filter((d) => existsSync(join(workDir, d)));
  while (left().length && Date.now() - restartedAt < 60_000) await new Promise((r) => setTimeout(r, 100));
  t.same(left(), [], `the next start removed them (${Date.now() - restartedAt} ms after restart)`);

  const video = await waitForVideo(platform.url, token, id, ['ready', 'failed'], 240_000);
  t.equal(video.status, 'ready', 'the work item was redelivered and finished');
  t.same(
    readdirSync(workDir).filter((d) => d.startsWith('reel-')),
    [],
    'nothing left in the work dir',
  );
});
