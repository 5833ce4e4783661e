import { readdirSync, writeFileSync } from 'node:fs';
import { isPermanentError, isRetryableError, type PermanentError, RetryableError } from '@reel/events';
import { FfmpegError } from '@reel/media';
import t from 'tap';
import { createAudioHandler } from '../../src/handlers/audio-requested.ts';
import { context, fakeMedia, fakePublisher, fakeStorage, source, VIDEO } from '../fakes.ts';

const work = { videoId: VIDEO, source, bitrate: 128_000, segmentSec: 4, durationSec: 6 };

t.test('the audio work item: one encode from the source where it lies, segments stored, its manifest, then video.audio.transcoded', async (t) => {
  const workDir = t.testdir({});
  const { storage, stored, texts, downloads } = fakeStorage();
  const { publisher, published } = fakePublisher();
  const { media, calls } = fakeMedia();
  await createAudioHandler({ storage, publisher, media, workDir })(work, context('evt-9'));
  t.same(downloads, [], 'no copy of the source');
  t.match(calls, [
    { method: 'encodeAudio', job: { input: `https://s3.test/reel-sources/sources/${VIDEO}/original?X-Amz-Signature=sig`, bitrate: 128_000, segmentSec: 4 } },
  ]);
  t.same(
    [...stored.keys()],
    [0, 1].map((n) => `reel-media/videos/${VIDEO}/hls/audio/seg-0000${n}.ts`),
  );
  const manifest = JSON.parse(texts.get(`reel-sources/work/${VIDEO}/audio.json`) ?? '{}');
  t.match(manifest, {
    codecs: 'mp4a.40.2',
    bitrate: 128_000,
    complete: true,
    segments: [
      { durationSec: 4, bytes: 188 },
      { durationSec: 2, bytes: 188 },
    ],
  });
  const announced = published.filter((p) => p.subject === 'video.audio.transcoded');
  t.same(
    announced.map((p) => [p.id, (p.data as { complete: boolean }).complete]),
    [
      ['evt-9.first', false],
      ['evt-9.done', true],
    ],
    'what is stored announced while the rest is encoded, then the whole rendition',
  );
  // the fake lists a second segment 20 ms after reporting progress: on a busy machine the first
  // store may already see both
  const first = (announced[0]?.data as { segments: unknown[] } | undefined)?.segments.length ?? 0;
  t.ok(first >= 1 && first <= 2, `the first announcement lists what was stored then (${first})`);
  t.equal((announced[1]?.data as { segments: unknown[] } | undefined)?.segments.length, 2, 'the last lists every segment');
  t.match(announced[1]?.data, { videoId: VIDEO, ...manifest, manifest: { bucket: 'reel-sources', key: `work/${VIDEO}/audio.json` } });
  t.same(readdirSync(workDir), [], 'the work dir is removed');
});

t.test('audio the encoder cannot read fails the video for good', async (t) => {
  const workDir = t.testdir({});
  const { media } = fakeMedia({ fail: new FfmpegError('ffmpeg could not encode the audio: Invalid data found when processing input', '') });
  const err = (await createAudioHandler({ ...fakeStorage(), ...fakePublisher(), media, workDir })(work, context()).catch((e: unknown) => e)) as PermanentError;
  t.ok(isPermanentError(err));
  t.equal(err.code, 'transcode_failed');
  t.same(readdirSync(workDir), []);
});

t.test('a segment of no length (what a cut-off read leaves) is never announced; the read is retried', async (t) => {
  const { media } = fakeMedia();
  const { publisher, published } = fakePublisher();
  // as ffmpeg on a source cut off at once: a 0 s segment listed, then the read reported cut off
  media.encodeAudio = async (job) => {
    writeFileSync(`${job.outDir}/seg-00000.ts`, '');
    writeFileSync(`${job.outDir}/index.m3u8`, '#EXTM3U\n#EXTINF:0.000,\nseg-00000.ts\n');
    job.onProgress?.(0);
    await new Promise((r) => setTimeout(r, 20));
    throw new RetryableError("ffmpeg's read of the source was cut off: Input/output error");
  };
  const err = await createAudioHandler({ ...fakeStorage(), publisher, media, workDir: t.testdir({}) })(work, context()).catch((e: unknown) => e);
  t.ok(isRetryableError(err), 'retried');
  t.same(published, [], 'nothing announced: no event with a segment of 0 s (it would break the contract and fail the video)');
});
