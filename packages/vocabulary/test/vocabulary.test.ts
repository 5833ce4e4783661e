import { Value } from '@sinclair/typebox/value';
import t from 'tap';
import { FINAL_STATUSES, isFinalStatus, isVideoId, LIMITS, MAX_TITLE_LENGTH, titleFromFilename, VideoId, VideoStatus, Visibility } from '../src/mod.ts';

const ID = '6f1c2d3e-4a5b-4c7d-8e9f-0a1b2c3d4e5f';

t.test('a video id is a lowercase UUID, in the guard and in the schema alike', async (t) => {
  for (const [value, ok] of [
    [ID, true],
    [ID.toUpperCase(), false],
    [`${ID}/../x`, false],
    [ID.slice(1), false],
    ['', false],
  ] as const) {
    t.equal(isVideoId(value), ok, `isVideoId(${JSON.stringify(value)})`);
    t.equal(Value.Check(VideoId, value), ok, `VideoId schema (${JSON.stringify(value)})`);
  }
  t.notOk(isVideoId(42), 'not a string');
});

t.test('ready and failed are final; waiting and processing are not', async (t) => {
  t.same([...FINAL_STATUSES].sort(), ['failed', 'ready']);
  for (const s of ['waiting_upload', 'processing', 'ready', 'failed']) t.ok(Value.Check(VideoStatus, s), `${s} is a status`);
  t.notOk(Value.Check(VideoStatus, 'deleted'), 'deleted is not a status (a deleted video is gone)');
  t.ok(isFinalStatus('ready'));
  t.ok(isFinalStatus('failed'));
  t.notOk(isFinalStatus('processing'));
  t.notOk(isFinalStatus('waiting_upload'));
  t.notOk(isFinalStatus(undefined));
});

t.test('visibility is private, unlisted or public', async (t) => {
  t.same(
    ['private', 'unlisted', 'public', 'secret'].map((v) => Value.Check(Visibility, v)),
    [true, true, true, false],
  );
});

t.test('the title is the given one, else the file name without extension, else Untitled', async (t) => {
  t.equal(titleFromFilename('  My trip ', 'a.mp4'), 'My trip');
  t.equal(titleFromFilename(undefined, 'holiday.2026.mov'), 'holiday.2026');
  t.equal(titleFromFilename(undefined, undefined), 'Untitled');
  t.equal(titleFromFilename('   ', 'a.mp4'), 'Untitled');
  t.equal(titleFromFilename(undefined, '.mp4'), 'Untitled');
  t.equal(titleFromFilename('x'.repeat(300), undefined).length, MAX_TITLE_LENGTH);
});

t.test('every limit has a default within its bounds and says what it is', async (t) => {
  for (const [name, l] of Object.entries(LIMITS)) {
    t.ok(l.default >= l.min, `${name}: default ${l.default} ≥ min ${l.min}`);
    t.ok(l.doc.length > 10, `${name} is documented`);
  }
  t.equal(LIMITS.MAX_UPLOAD_BYTES.default, 10 * 1024 ** 3, 'uploads up to 10 GiB by default');
});
