import { type PermanentError, type Probe, RetryableError } from '@reel/events';
import type { Media } from '@reel/media';
import type { Storage } from '@reel/storage';
import t from 'tap';
import { createUploadedHandler } from '../../src/handlers/video-uploaded.ts';

const VIDEO = '6f1c2d3e-4a5b-4c7d-8e9f-0a1b2c3d4e5f';
const log = { info() {}, warn() {}, error() {}, debug() {}, child: () => log } as never;
const ctx = () => ({
  envelope: { id: 'evt-1', type: 'video.uploaded', version: 1, occurredAt: new Date(0).toISOString(), data: {} },
  log,
  signal: new AbortController().signal,
  working() {},
  deliveryCount: 1,
  isLastAttempt: false,
});
const uploaded = (size = 1234) => ({
  videoId: VIDEO,
  ownerId: 'u1',
  title: 'Cat',
  description: '',
  visibility: 'private' as const,
  source: { bucket: 'reel-sources', key: `sources/${VIDEO}/original`, size, filename: 'cat.mp4' },
});
const probed = (p: Partial<Probe> = {}): Probe => ({
  durationSec: 10,
  width: 1280,
  height: 720,
  displayWidth: 1280,
  displayHeight: 720,
  rotation: 0,
  fps: 30,
  videoCodec: 'h264',
  pixFmt: 'yuv420p',
  bitrate: 3_000_000,
  hasAudio: true,
  container: 'mov,mp4',
  ...p,
});

function setup(probe: () => Promise<Probe>) {
  const probedInputs: string[] = [];
  const published: { subject: string; data: unknown; id?: string | undefined }[] = [];
  const media: Pick<Media, 'probe'> = {
    probe: (input) => {
      probedInputs.push(input);
      return probe();
    },
  };
  const storage = { presignGet: async (b: string, k: string) => `https://s3.test/${b}/${k}?X-Amz-Signature=sig` } as Partial<Storage> as Storage;
  const publisher = {
    publish: async (subject: string, data: unknown, opts?: { id?: string }) => {
      published.push({ subject, data, id: opts?.id });
      return {} as never;
    },
  };
  const handler = createUploadedHandler({ storage, publisher, media, limits: { maxDurationSec: 60, maxResolution: 1920, maxUploadBytes: 10_000 } });
  return { handler, probedInputs, published };
}

t.test('an upload is probed where it lies, planned, and split into work items with aligned segments', async (t) => {
  const { handler, probedInputs, published } = setup(async () => probed());
  await handler(uploaded(), ctx());
  t.same(probedInputs, [`https://s3.test/reel-sources/sources/${VIDEO}/original?X-Amz-Signature=sig`]);
  t.same(
    published.map((p) => [p.subject, p.id]),
    [
      ['video.ingested', 'evt-1.ingested'],
      ['work.transcode.requested', 'evt-1.work.0'],
    ],
  );
  t.match(published[1]?.data, { videoId: VIDEO, audio: true, segmentSec: 4, ladder: [{ name: '720p' }, { name: '480p' }, { name: '360p' }, { name: '240p' }] });
});

t.test('what breaks a limit is refused for good, the size before any probe', async (t) => {
  const cases: [number, Partial<Probe>, string][] = [
    [0, {}, 'empty_file'],
    [20_000, {}, 'too_large'],
    [1234, { durationSec: 61 }, 'too_long'],
    [1234, { width: 2560, height: 1440 }, 'resolution_too_high'],
  ];
  for (const [size, p, code] of cases) {
    const { handler, probedInputs, published } = setup(async () => probed(p));
    const err = (await handler(uploaded(size), ctx()).catch((e: unknown) => e)) as PermanentError;
    t.equal(err.code, code);
    t.equal(published.length, 0, `${code}: nothing published`);
    if (code === 'empty_file' || code === 'too_large') t.same(probedInputs, [], `${code}: not probed`);
  }
});

t.test('a probe that could not reach the source is retried (its error passes through)', async (t) => {
  const down = new RetryableError('could not read the source: Connection refused');
  const { handler, published } = setup(async () => {
    throw down;
  });
  t.equal(await handler(uploaded(), ctx()).catch((e: unknown) => e), down);
  t.same(published, []);
});

t.test('a long video becomes its audio work item, then its chunks in index order, video only', async (t) => {
  const { handler, published } = setup(async () => probed({ durationSec: 40 }));
  await handler(uploaded(), ctx());
  t.same(
    published.map((p) => [p.subject, p.id]),
    [
      ['video.ingested', 'evt-1.ingested'],
      ['work.audio.requested', 'evt-1.work.audio'],
      ['work.transcode.requested', 'evt-1.work.0'],
      ['work.transcode.requested', 'evt-1.work.1'],
      ['work.transcode.requested', 'evt-1.work.2'],
      ['work.transcode.requested', 'evt-1.work.3'],
    ],
  );
  t.match(published[1]?.data, { bitrate: 128_000, segmentSec: 4, durationSec: 40 });
  t.match(published[2]?.data, { audio: false, audioGroup: true, chunk: { index: 0, count: 4, startSec: 0, durationSec: 4 } });
  t.match(published[5]?.data, { chunk: { index: 3, count: 4, startSec: 28, durationSec: 12 } });
  t.match(published[3]?.data, { images: { poster: { atSec: 5 }, storyboard: { first: 4, count: 12 } } }, 'each chunk makes the images that fall in it');
  t.notOk((published[2]?.data as { images?: { poster?: unknown } } | undefined)?.images?.poster, 'the poster in one chunk only');
});

t.test('a long silent video has no audio work item and no audio group', async (t) => {
  const { handler, published } = setup(async () => probed({ durationSec: 40, hasAudio: false }));
  await handler(uploaded(), ctx());
  t.notOk(published.some((p) => p.subject === 'work.audio.requested'));
  t.match(published[1]?.data, { audio: false, chunk: { index: 0, count: 4 } });
  t.notOk((published[1]?.data as { audioGroup?: boolean } | undefined)?.audioGroup);
});

t.test("an owner's retry: the work items carry the attempt (the packager's announcements are named after it)", async (t) => {
  const { handler, published } = setup(async () => probed({ durationSec: 40 }));
  await handler({ ...uploaded(), attempt: 2 }, ctx());
  const work = published.filter((p) => p.subject === 'work.transcode.requested').map((p) => (p.data as { attempt?: number }).attempt);
  t.same(work, [2, 2, 2, 2]);
});
