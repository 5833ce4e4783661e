import t from 'tap';
import { FINAL_STATUSES, InvalidMessageError, isFinalStatus, isVideoId, parseChunkManifest, registry, Subjects, titleFromFilename } from '../src/mod.ts';
import { fixtures, VIDEO } from './fixtures.ts';

t.test('Subjects names every registry subject, and nothing else', async (t) => {
  t.same(Object.values(Subjects).sort(), Object.keys(registry).sort());
  t.equal(Subjects.uploaded, 'video.uploaded');
  t.equal(Subjects.transcodeRequested, 'video.transcode.requested');
  t.equal(Subjects.thumbnailsCreated, 'video.thumbnails.created');
});

t.test('a video id is a lowercase UUID', async (t) => {
  t.ok(isVideoId(VIDEO));
  t.notOk(isVideoId(VIDEO.toUpperCase()));
  t.notOk(isVideoId(`${VIDEO}/../x`));
  t.notOk(isVideoId(42));
});

t.test('ready and failed are final; waiting and processing are not', async (t) => {
  t.same([...FINAL_STATUSES].sort(), ['failed', 'ready']);
  t.ok(isFinalStatus('ready'));
  t.ok(isFinalStatus('failed'));
  t.notOk(isFinalStatus('processing'));
  t.notOk(isFinalStatus('waiting_upload'));
});

t.test('the title is the given one, else the file name without extension, else Untitled', async (t) => {
  t.equal(titleFromFilename('  My trip ', 'a.mp4'), 'My trip');
  t.equal(titleFromFilename(undefined, 'holiday.2026.mov'), 'holiday.2026');
  t.equal(titleFromFilename(undefined, undefined), 'Untitled');
  t.equal(titleFromFilename('   ', 'a.mp4'), 'Untitled');
  t.equal(titleFromFilename(undefined, '.mp4'), 'Untitled');
  t.equal(titleFromFilename('x'.repeat(300), undefined).length, 200);
});

t.test('a chunk manifest is validated on read', async (t) => {
  const { chunk, renditions } = fixtures['video.transcoded'].valid as { chunk: unknown; renditions: unknown };
  t.same(parseChunkManifest(JSON.stringify({ chunk, renditions })), { chunk, renditions });
  t.throws(() => parseChunkManifest('{'), InvalidMessageError, 'not JSON');
  t.throws(() => parseChunkManifest(JSON.stringify({ chunk, renditions: [] })), InvalidMessageError, 'no renditions');
  t.throws(() => parseChunkManifest(JSON.stringify({ renditions })), InvalidMessageError, 'no chunk');
});
