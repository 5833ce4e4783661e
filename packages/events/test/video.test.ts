import t from 'tap';
import { InvalidMessageError, isVideoId, parseChunkManifest, registry, Subjects } from '../src/mod.ts';
import { fixtures, VIDEO } from './fixtures.ts';

t.test('Subjects names every registry subject, and nothing else', async (t) => {
  t.same(Object.values(Subjects).sort(), Object.keys(registry).sort());
  t.equal(Subjects.uploaded, 'video.uploaded');
  t.equal(Subjects.transcodeRequested, 'work.transcode.requested');
  t.equal(Subjects.thumbnailsCreated, 'video.thumbnails.created');
});

// the id, status, visibility and title rules themselves are tested in packages/vocabulary
t.test('the vocabulary is re-exported: the fixtures use its video id', async (t) => {
  t.ok(isVideoId(VIDEO));
});

t.test('a chunk manifest is validated on read', async (t) => {
  const { chunk, renditions } = fixtures['video.transcoded'].valid as { chunk: unknown; renditions: unknown };
  t.same(parseChunkManifest(JSON.stringify({ chunk, renditions })), { chunk, renditions });
  t.throws(() => parseChunkManifest('{'), InvalidMessageError, 'not JSON');
  t.throws(() => parseChunkManifest(JSON.stringify({ chunk, renditions: [] })), InvalidMessageError, 'no renditions');
  t.throws(() => parseChunkManifest(JSON.stringify({ renditions })), InvalidMessageError, 'no chunk');
});
