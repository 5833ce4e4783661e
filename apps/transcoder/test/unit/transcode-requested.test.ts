import { readdirSync, writeFileSync } from 'node:fs';
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
    published.filter((p) => p.subject === 'live.progress').map((p) => p.data),
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

t.test('a chunk of several is read where it lies (no download), video only, and says its audio is a group', async (t) => {
  const workDir = t.testdir({});
  const { storage, downloads, texts } = fakeStorage();
  const { publisher, published } = fakePublisher();
  const { media, calls } = fakeMedia({ level: 31 });
  const chunk = { index: 2, count: 4, startSec: 16, durationSec: 12 };
  await createTranscodeHandler({ storage, publisher, media, workDir })({ ...work(), chunk, audio: false, audioGroup: true }, context('evt-8'));
  t.same(downloads, [], 'no copy of the source');
  t.match(calls.find((c) => c.method === 'encodeLadder')?.job, { input: `https://s3.test/reel-sources/sources/${VIDEO}/original?X-Amz-Signature=sig`, chunk });
  const done = published.find((p) => p.subject === 'video.transcoded');
  t.match(done?.data, {
    chunk,
    audioGroup: true,
    renditions: [{ codecs: 'avc1.64001f', segments: [{ key: `videos/${VIDEO}/hls/720p/seg-0002-00000.ts` }, {}] }, {}],
  });
  t.match(JSON.parse(texts.get(`reel-sources/work/${VIDEO}/chunk-0002.json`) ?? '{}'), { chunk, audioGroup: true });
  t.same(
    published.filter((p) => p.subject === 'live.progress').map((p) => (p.data as { percent: number }).percent),
    [63],
    'progress as the share of the whole video: (2 + ½) of 4 chunks',
  );
});

t.test('a chunk that fails for good fails the video with the chunk named', async (t) => {
  const broken = fakeMedia({ fail: new FfmpegError('ffmpeg could not transcode the video: Invalid data found when processing input', '') });
  const chunk = { index: 3, count: 5, startSec: 28, durationSec: 12 };
  const err = (await createTranscodeHandler({ ...fakeStorage(), ...fakePublisher(), media: broken.media, workDir: t.testdir({}) })(
    { ...work(), chunk, audio: false },
    context(),
  ).catch((e: unknown) => e)) as PermanentError;
  t.equal(err.code, 'transcode_failed');
  t.equal(err.message, 'chunk 3 of 5 (28–40 s): ffmpeg could not transcode the video: Invalid data found when processing input');
});

t.test('segments are stored while the chunk is still encoding', async (t) => {
  const { storage, stored } = fakeStorage();
  const { media } = fakeMedia();
  const key = `reel-media/videos/${VIDEO}/hls/720p/seg-0000-00000.ts`;
  let storedWhileEncoding = false;
  media.encodeLadder = async (job) => {
    // as ffmpeg with an EVENT playlist: the first segment finished and listed, the rest to come
    for (const i of job.ladder.keys()) {
      writeFileSync(`${job.outDir}/${i}/seg-00000.ts`, 'x'.repeat(188));
      writeFileSync(`${job.outDir}/${i}/index.m3u8`, '#EXTM3U\n#EXTINF:4.000,\nseg-00000.ts\n');
    }
    job.onProgress?.(4);
    for (let waited = 0; waited < 2000 && !stored.has(key); waited += 10) await new Promise((r) => setTimeout(r, 10));
    storedWhileEncoding = stored.has(key);
    for (const i of job.ladder.keys()) {
      writeFileSync(`${job.outDir}/${i}/seg-00001.ts`, 'x'.repeat(188));
      writeFileSync(`${job.outDir}/${i}/index.m3u8`, '#EXTM3U\n#EXTINF:4.000,\nseg-00000.ts\n#EXTINF:2.000,\nseg-00001.ts\n#EXT-X-ENDLIST\n');
    }
  };
  const { publisher, published } = fakePublisher();
  await createTranscodeHandler({ storage, publisher, media, workDir: t.testdir({}) })(work(), context());
  t.ok(storedWhileEncoding, 'the first segment was in storage before the encode ended');
  t.match(published.find((p) => p.subject === 'video.transcoded')?.data, { renditions: [{ segments: [{ durationSec: 4 }, { durationSec: 2 }] }, {}] });
});

t.test('the images planned for a chunk come from its encode: stored under the video’s image keys, listed in the manifest and the event', async (t) => {
  const { storage, stored, texts } = fakeStorage();
  const { publisher, published } = fakePublisher();
  const { media, calls } = fakeMedia({ noFrameFor: ['thumb-3'] });
  const images = {
    poster: { atSec: 5, width: 1280, height: 720 },
    thumbnails: [
      { index: 2, atSec: 20 },
      { index: 3, atSec: 27.5 },
    ],
    thumbnailSize: { width: 320, height: 180 },
    storyboard: { first: 4, count: 12, columns: 10, intervalSec: 1, tileWidth: 160, tileHeight: 90 },
  };
  const chunk = { index: 1, count: 3, startSec: 4, durationSec: 12 };
  await createTranscodeHandler({ storage, publisher, media, workDir: t.testdir({}) })({ ...work(), chunk, audio: false, images, attempt: 2 }, context('evt-8'));

  t.same(calls.filter((c) => c.method === 'encodeLadder').length, 1, 'one decode for the rungs and the images');
  t.match(calls[0]?.job, { images }, 'the plan goes to the encode');
  const img = (name: string) => `reel-media/videos/${VIDEO}/images/${name}`;
  t.ok(stored.has(img('poster.jpg')), 'the poster');
  t.ok(stored.has(img('thumb-002.jpg')), 'the thumbnail whose frame was found');
  t.notOk(stored.has(img('thumb-003.jpg')), 'no file for a time without a frame');
  t.ok(stored.has(img('storyboard-0001.jpg')), "the chunk's storyboard sprite, named after the chunk");
  const want = {
    poster: `videos/${VIDEO}/images/poster.jpg`,
    thumbnails: [{ index: 2, key: `videos/${VIDEO}/images/thumb-002.jpg` }],
    storyboard: { key: `videos/${VIDEO}/images/storyboard-0001.jpg`, first: 4, count: 12, columns: 10 },
  };
  t.match(JSON.parse(texts.get(`reel-sources/work/${VIDEO}/chunk-0001.json`) ?? '{}'), { images: want }, 'listed in the chunk manifest');
  t.match(published.find((p) => p.subject === 'video.transcoded')?.data, { images: want, attempt: 2 }, 'and in video.transcoded, with the attempt');
});

t.test('a work item without images (made before they were planned) stores none', async (t) => {
  const { storage, texts } = fakeStorage();
  await createTranscodeHandler({ storage, ...fakePublisher(), media: fakeMedia().media, workDir: t.testdir({}) })(work(), context());
  t.notMatch(texts.get(`reel-sources/work/${VIDEO}/chunk-0000.json`) ?? '', /images/);
});
