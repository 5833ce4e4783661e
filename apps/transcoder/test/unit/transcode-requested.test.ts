import { readdirSync } from 'node:fs';
import { isPermanentError, type PermanentError, RetryableError } from '@reel/events';
import { FfmpegError } from '@reel/media';
import t from 'tap';
import { createTranscodeHandler } from '../../src/handlers/transcode-requested.ts';
import { context, fakeMedia, fakePublisher, fakeStorage, rung, source, VIDEO } from '../fakes.ts';

const work = (segmentSec = 4) => ({
  videoId: VIDEO,
  source,
  chunk: { index: 0, count: 1, startSec: 0, durationSec: 6 },
  ladder: [rung('720p', 1280, 720), rung('360p', 640, 360)],
  audio: true,
  segmentSec,
});

t.test('a work item: one ladder encode, every segment stored, the chunk manifest, then video.transcoded', async (t) => {
  const workDir = t.testdir({});
  const { storage, stored, texts } = fakeStorage();
  const { publisher, published } = fakePublisher();
  const { media, calls } = fakeMedia({ level: 31 });
  await createTranscodeHandler({ storage, publisher, media, workDir })(work(), context('evt-7'));

  const encodes = calls.filter((c) => c.method === 'encodeLadder');
  t.equal(encodes.length, 1, 'one encode for every rung');
  t.match(encodes[0]?.job, { segmentSec: 4, audio: true, ladder: [{ name: '720p' }, { name: '360p' }] });
  t.same([...stored.keys()].sort(), ['720p', '360p'].flatMap((r) => [0, 1].map((n) => `reel-media/videos/${VIDEO}/hls/${r}/seg-0000-0000${n}.ts`)).sort());
  const manifest = `reel-sources/work/${VIDEO}/chunk-0000.json`;
  t.ok(texts.has(manifest), 'chunk manifest written');
  const done = published.find((p) => p.subject === 'video.transcoded');
  t.equal(done?.id, 'evt-7.done', 'the id derives from the work item’s');
  t.match(done?.data, { videoId: VIDEO, renditions: [{ codecs: 'avc1.64001f,mp4a.40.2', segments: [{ durationSec: 4 }, { durationSec: 2 }] }, {}] });
  t.same(
    published.filter((p) => p.subject === 'video.progress').map((p) => p.data),
    [{ videoId: VIDEO, stage: 'transcode', percent: 50 }],
    'ffmpeg’s progress reported as the chunk’s share',
  );
  t.same(readdirSync(workDir), [], 'the work dir is removed');
});

t.test('the media at fault fails the video for good; a source or machine fault is retried', async (t) => {
  const workDir = t.testdir({});
  const broken = fakeMedia({ fail: new FfmpegError('ffmpeg could not transcode the video: Invalid data found when processing input', '') });
  const err = (await createTranscodeHandler({ ...fakeStorage(), ...fakePublisher(), media: broken.media, workDir })(work(), context()).catch(
    (e: unknown) => e,
  )) as PermanentError;
  t.ok(isPermanentError(err));
  t.equal(err.code, 'transcode_failed');
  t.equal(err.message, 'ffmpeg could not transcode the video: Invalid data found when processing input');
  const flaky = fakeMedia({ fail: new RetryableError('ffmpeg was killed (SIGKILL)') });
  const again = await createTranscodeHandler({ ...fakeStorage(), ...fakePublisher(), media: flaky.media, workDir })(work(), context()).catch((e: unknown) => e);
  t.notOk(isPermanentError(again), 'retryable stays retryable');
  t.same(readdirSync(workDir), [], 'the work dir is removed either way');
});

t.test('segments that would not start on keyframes are refused before any work', async (t) => {
  const { storage, downloads } = fakeStorage();
  const { media, calls } = fakeMedia();
  const err = (await createTranscodeHandler({ storage, ...fakePublisher(), media, workDir: t.testdir({}) })(work(3), context()).catch(
    (e: unknown) => e,
  )) as PermanentError;
  t.equal(err.code, 'transcode_failed');
  t.equal(err.message, 'segments of 3 s do not start on keyframes every 2 s');
  t.same([downloads, calls], [[], []], 'nothing downloaded, nothing encoded');
});
