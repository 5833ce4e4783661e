import { readdirSync } from 'node:fs';
import { isPermanentError, isRetryableError, type PermanentError, RetryableError } from '@reel/events';
import { FfmpegError, type FrameJob } from '@reel/media';
import t from 'tap';
import { createThumbnailsHandler } from '../../src/handlers/video-ingested.ts';
import { context, fakeMedia, fakePublisher, fakeStorage, rung, source, VIDEO } from '../fakes.ts';

const probe = {
  durationSec: 25,
  width: 1920,
  height: 1080,
  displayWidth: 1920,
  displayHeight: 1080,
  rotation: 0,
  fps: 30,
  videoCodec: 'h264',
  pixFmt: 'yuv420p',
  bitrate: 5_000_000,
  hasAudio: true,
  container: 'mov,mp4',
};
const ingested = {
  videoId: VIDEO,
  source,
  probe,
  ladder: [rung('720p', 1280, 720)],
  chunks: [{ index: 0, count: 1, startSec: 0, durationSec: 25 }],
  segmentSec: 4,
};

t.test('a poster, five thumbnails and a storyboard from the presigned source, then video.thumbnails.created', async (t) => {
  const workDir = t.testdir({});
  const { storage, stored, texts } = fakeStorage();
  const { publisher, published } = fakePublisher();
  const { media, calls } = fakeMedia();
  await createThumbnailsHandler({ storage, publisher, media, workDir })(ingested, context('evt-3'));

  const frames = calls.filter((c) => c.method === 'extractFrame').map((c) => c.job as FrameJob);
  t.same(
    frames.map((f) => [f.atSec, f.width]),
    [[5, 1280], ...[4.167, 8.333, 12.5, 16.667, 20.833].map((s) => [s, 320])],
    'the poster at 5 s (1280 wide), thumbnails spread over the video (320 wide)',
  );
  t.ok(
    frames.every((f) => f.input.startsWith('https://s3.test/reel-sources/') && f.display.width === 1920),
    'read from the presigned URL at the display size',
  );
  t.match(calls.find((c) => c.method === 'extractStoryboard')?.job, { plan: { intervalSec: 1, columns: 10, rows: 3, tileWidth: 160, tileHeight: 90 } });
  t.equal(stored.size, 7, 'poster, five thumbnails, storyboard stored');
  t.match(texts.get(`reel-media/videos/${VIDEO}/images/storyboard.vtt`), /^WEBVTT\n/);
  t.match(published, [{ subject: 'video.thumbnails.created', id: 'evt-3.thumbnails', data: { videoId: VIDEO, storyboard: { columns: 10, rows: 3 } } }]);
  t.same(readdirSync(workDir), [], 'temp files removed');
});

t.test('a frame ffmpeg cannot decode fails the step for good; an unreachable source is retried', async (t) => {
  const bad = fakeMedia({ fail: new FfmpegError('ffmpeg could not extract a frame at 5 s: Invalid data found when processing input', '') });
  const err = (await createThumbnailsHandler({ ...fakeStorage(), ...fakePublisher(), media: bad.media, workDir: t.testdir({}) })(ingested, context()).catch(
    (e: unknown) => e,
  )) as PermanentError;
  t.ok(isPermanentError(err));
  t.equal(err.code, 'thumbnails_failed');
  const down = fakeMedia({ fail: new RetryableError('ffmpeg could not read the source: Connection refused') });
  const again = await createThumbnailsHandler({ ...fakeStorage(), ...fakePublisher(), media: down.media, workDir: t.testdir({}) })(ingested, context()).catch(
    (e: unknown) => e,
  );
  t.ok(isRetryableError(again));
});
