import { type ChunkManifest, type HandlerContext, isPermanentError, type PermanentError, type Publisher } from '@reel/events';
import { keys, type Storage } from '@reel/storage';
import t from 'tap';
import { createTranscodedHandler } from '../../src/handlers/video-transcoded.ts';

const VIDEO = '6f1c2d3e-4a5b-4c7d-8e9f-0a1b2c3d4e5f';
const rung = { name: '360p', width: 640, height: 360, videoBitrate: 800_000, maxrate: 1_200_000, bufsize: 1_600_000, fps: 30 };
const log = { info() {}, warn() {}, error() {}, debug() {}, child: () => log } as never;
const ctx = {
  log,
  envelope: { id: 'e1' },
  signal: new AbortController().signal,
  working() {},
  deliveryCount: 1,
  isLastAttempt: false,
} as never as HandlerContext;

const manifest = (index: number, count: number): ChunkManifest => ({
  chunk: { index, count, startSec: index * 4, durationSec: 4 },
  renditions: [{ rung, codecs: 'avc1.64001e', segments: [{ key: keys.segment(VIDEO, rung.name, index, 0), durationSec: 4, bytes: 1000 }] }],
});

/** Storage in memory: every segment exists; `texts` holds the source bucket's stored manifests and what is written. */
function fakes(texts: Map<string, string>) {
  const storage = {
    sourceBucket: 'src',
    mediaBucket: 'media',
    async size(bucket: string, key: string) {
      return bucket === 'media' || texts.has(key) ? 1 : undefined;
    },
    async getText(_bucket: string, key: string) {
      return texts.get(key) ?? '';
    },
    async putText(_bucket: string, key: string, text: string) {
      texts.set(key, text);
    },
  } as Partial<Storage> as Storage;
  const published: string[] = [];
  const publisher: Publisher = {
    async publish(subject) {
      published.push(subject);
      return { seq: published.length, duplicate: false } as never;
    },
  };
  return { storage, publisher, published };
}

t.test('the last chunk in packages the video from the stored manifests', async (t) => {
  const texts = new Map([[keys.chunkManifest(VIDEO, 0), JSON.stringify(manifest(0, 2))]]);
  const { storage, publisher, published } = fakes(texts);
  const { chunk, renditions } = manifest(1, 2);
  await createTranscodedHandler({ storage, publisher })({ videoId: VIDEO, chunk, renditions, manifest: { bucket: 'src', key: 'k' } }, ctx);
  t.match(texts.get(keys.mediaPlaylist(VIDEO, '360p')), /seg-0000-00000\.ts[\s\S]*seg-0001-00000\.ts/, 'both chunks, in order');
  t.ok(texts.has(keys.master(VIDEO)));
  t.same(published, ['video.playable', 'video.packaged']);
});

t.test('a stored manifest that breaks the contract fails the video instead of being trusted', async (t) => {
  const broken = { ...manifest(0, 2), renditions: [{ rung, codecs: 'avc1', segments: [] }] };
  const { storage, publisher, published } = fakes(new Map([[keys.chunkManifest(VIDEO, 0), JSON.stringify(broken)]]));
  const { chunk, renditions } = manifest(1, 2);
  const err = (await createTranscodedHandler({ storage, publisher })({ videoId: VIDEO, chunk, renditions, manifest: { bucket: 'src', key: 'k' } }, ctx).catch(
    (e: unknown) => e,
  )) as PermanentError;
  t.ok(isPermanentError(err));
  t.equal(err.code, 'package_failed');
  t.match(err.message, /chunk-0000\.json: invalid chunk manifest/);
  t.same(published, [], 'nothing announced');
});
