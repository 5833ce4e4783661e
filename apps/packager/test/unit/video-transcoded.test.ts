import { type ChunkManifest, type HandlerContext, isPermanentError, type PermanentError, type Publisher } from '@reel/events';
import { keys, type Storage } from '@reel/storage';
import t from 'tap';
import { createPackager } from '../../src/handlers/video-transcoded.ts';

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

/** A chunk of 4 s with one segment, and its images: its 4 storyboard tiles, and the poster in the first. */
const manifest = (index: number, count: number): ChunkManifest => ({
  chunk: { index, count, startSec: index * 4, durationSec: 4 },
  renditions: [{ rung, codecs: 'avc1.64001e', segments: [{ key: keys.segment(VIDEO, rung.name, index, 0), durationSec: 4, bytes: 1000 }] }],
  images: {
    ...(index === 0 ? { poster: keys.poster(VIDEO) } : {}),
    thumbnails: [],
    storyboard: { key: keys.storyboardSprite(VIDEO, index), first: index * 4, count: 4, columns: 4, intervalSec: 1, tileWidth: 160, tileHeight: 90 },
  },
});
/** The same chunk, from a work item that planned no images. */
const bare = (index: number, count: number): ChunkManifest => {
  const { images: _, ...m } = manifest(index, count);
  return m;
};

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
  const data = new Map<string, unknown>();
  const ids: string[] = [];
  const publisher: Publisher = {
    async publish(subject, d, opts) {
      published.push(subject);
      data.set(subject, d);
      ids.push(opts?.id ?? '');
      return { seq: published.length, duplicate: false } as never;
    },
  };
  return { storage, publisher, published, data, ids };
}

t.test('the last chunk in packages the video from the stored manifests', async (t) => {
  const texts = new Map([[keys.chunkManifest(VIDEO, 0), JSON.stringify(bare(0, 2))]]);
  const { storage, publisher, published } = fakes(texts);
  const { chunk, renditions } = bare(1, 2);
  await createPackager({ storage, publisher }).transcoded({ videoId: VIDEO, chunk, renditions, manifest: { bucket: 'src', key: 'k' } }, ctx);
  t.match(texts.get(keys.mediaPlaylist(VIDEO, '360p')), /seg-0000-00000\.ts[\s\S]*seg-0001-00000\.ts/, 'both chunks, in order');
  t.ok(texts.has(keys.master(VIDEO)));
  t.same(published, ['video.playable', 'video.failed', 'video.packaged'], 'chunks that made no images: the thumbnails stage fails, the video still plays');
});

t.test('the images the chunks made: the storyboard VTT stitched over their sprites, then video.thumbnails.created before video.packaged', async (t) => {
  const tiles = (first: number, count: number, chunk: number) => ({
    key: keys.storyboardSprite(VIDEO, chunk),
    first,
    count,
    columns: count,
    intervalSec: 1,
    tileWidth: 160,
    tileHeight: 90,
  });
  const first = { ...manifest(0, 2), images: { thumbnails: [{ index: 0, key: keys.thumbnail(VIDEO, 0) }], storyboard: tiles(0, 4, 0) } };
  const texts = new Map([[keys.chunkManifest(VIDEO, 0), JSON.stringify(first)]]);
  const { storage, publisher, published, data } = fakes(texts);
  const images = { poster: keys.poster(VIDEO), thumbnails: [{ index: 1, key: keys.thumbnail(VIDEO, 1) }], storyboard: tiles(4, 4, 1) };
  await createPackager({ storage, publisher }).transcoded(event({ ...manifest(1, 2), images }), ctx);
  t.same(published, ['video.playable', 'video.thumbnails.created', 'video.packaged']);
  t.match(data.get('video.thumbnails.created'), {
    poster: keys.poster(VIDEO),
    thumbnails: [keys.thumbnail(VIDEO, 0), keys.thumbnail(VIDEO, 1)],
    storyboard: {
      image: keys.storyboardSprite(VIDEO, 0),
      vtt: keys.storyboardVtt(VIDEO),
      sprites: [keys.storyboardSprite(VIDEO, 0), keys.storyboardSprite(VIDEO, 1)],
    },
  });
  const vtt = texts.get(keys.storyboardVtt(VIDEO)) ?? '';
  t.equal(vtt.match(/-->/g)?.length, 8, 'a cue per tile of both sprites');
  t.match(vtt, /00:00:04\.000 --> 00:00:05\.000\nstoryboard-0001\.jpg#xywh=0,0,160,90/);
});

t.test('a stored manifest that breaks the contract fails the video instead of being trusted', async (t) => {
  const broken = { ...manifest(0, 2), renditions: [{ rung, codecs: 'avc1', segments: [] }] };
  const { storage, publisher, published } = fakes(new Map([[keys.chunkManifest(VIDEO, 0), JSON.stringify(broken)]]));
  const { chunk, renditions } = manifest(1, 2);
  const err = (await createPackager({ storage, publisher })
    .transcoded({ videoId: VIDEO, chunk, renditions, manifest: { bucket: 'src', key: 'k' } }, ctx)
    .catch((e: unknown) => e)) as PermanentError;
  t.ok(isPermanentError(err));
  t.equal(err.code, 'package_failed');
  t.match(err.message, /chunk-0000\.json: invalid chunk manifest/);
  t.same(published, [], 'nothing announced');
});

const audio = {
  codecs: 'mp4a.40.2',
  bitrate: 128_000,
  segments: [0, 1, 2].map((n) => ({ key: keys.audioSegment(VIDEO, n), durationSec: 4, bytes: 2000 })),
  complete: true,
};
const grouped = (index: number, count: number): ChunkManifest => ({ ...manifest(index, count), audioGroup: true });
const event = (m: ChunkManifest) => ({ videoId: VIDEO, ...m, manifest: { bucket: 'src', key: 'k' } });

t.test('the first chunk in: an EVENT playlist of what is stored, playable, not packaged', async (t) => {
  const texts = new Map<string, string>();
  const { storage, publisher, published } = fakes(texts);
  await createPackager({ storage, publisher }).transcoded(event(manifest(0, 3)), ctx);
  const media = texts.get(keys.mediaPlaylist(VIDEO, '360p')) ?? '';
  t.match(media, /#EXT-X-PLAYLIST-TYPE:EVENT/);
  t.match(media, /#EXT-X-START:TIME-OFFSET=0/, 'players start at the beginning, not the live edge');
  t.notMatch(media, /ENDLIST/, 'the list is still growing');
  t.same(published, ['video.playable']);
});

t.test('a chunk that lands before its predecessors waits; the one that closes the gap lists them all', async (t) => {
  const texts = new Map([[keys.chunkManifest(VIDEO, 2), JSON.stringify(manifest(2, 3))]]);
  const { storage, publisher, published } = fakes(texts);
  const packager = createPackager({ storage, publisher });
  await packager.transcoded(event(manifest(1, 3)), ctx);
  t.notOk(texts.has(keys.master(VIDEO)), 'nothing plays without chunk 0');
  texts.set(keys.chunkManifest(VIDEO, 1), JSON.stringify(manifest(1, 3)));
  await packager.transcoded(event(manifest(0, 3)), ctx);
  const media = texts.get(keys.mediaPlaylist(VIDEO, '360p')) ?? '';
  t.match(media, /seg-0000-00000[\s\S]*seg-0001-00000[\s\S]*seg-0002-00000[\s\S]*#EXT-X-ENDLIST/, 'all three, in order, final');
  t.match(media, /PLAYLIST-TYPE:VOD/);
  t.same(published, ['video.playable', 'video.thumbnails.created', 'video.packaged']);
});

t.test('a video with its own audio rendition waits for it, then names the group in every variant', async (t) => {
  const texts = new Map<string, string>();
  const { storage, publisher, published } = fakes(texts);
  const packager = createPackager({ storage, publisher });
  await packager.transcoded(event(grouped(0, 2)), ctx);
  t.notOk(texts.has(keys.master(VIDEO)), 'no audio yet: not playable');
  texts.set(keys.chunkManifest(VIDEO, 0), JSON.stringify(grouped(0, 2)));
  texts.set(keys.audioManifest(VIDEO), JSON.stringify(audio));
  await packager.audioTranscoded({ videoId: VIDEO, ...audio, manifest: { bucket: 'src', key: keys.audioManifest(VIDEO) } }, ctx);
  const master = texts.get(keys.master(VIDEO)) ?? '';
  t.match(master, /#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,URI="audio\/index.m3u8"/);
  t.match(master, /CODECS="avc1.64001e,mp4a.40.2"/, 'the variant names both codecs');
  t.match(master, /AUDIO="audio"/);
  // video peak 1000 B × 8 / 4 s = 2000 b/s, plus the audio 4000 b/s
  t.match(master, /BANDWIDTH=6000,/, 'the bandwidth counts the audio a player fetches too');
  const audioList = texts.get(keys.audioPlaylist(VIDEO)) ?? '';
  t.equal(audioList.match(/#EXTINF/g)?.length, 1, 'the audio is listed as far as the video goes (4 s)');
  t.match(audioList, /PLAYLIST-TYPE:EVENT/);
  texts.set(keys.chunkManifest(VIDEO, 1), JSON.stringify(grouped(1, 2)));
  await packager.transcoded(event(grouped(1, 2)), ctx);
  t.equal((texts.get(keys.audioPlaylist(VIDEO)) ?? '').match(/#EXTINF/g)?.length, 3, 'complete: all the audio');
  t.same(published, ['video.playable', 'video.playable', 'video.thumbnails.created', 'video.packaged']);
});

t.test('the first audio segments are enough to play; the video is final only with the whole audio', async (t) => {
  const texts = new Map<string, string>();
  const { storage, publisher, published } = fakes(texts);
  const packager = createPackager({ storage, publisher });
  const partial = { ...audio, segments: audio.segments.slice(0, 1), complete: false };
  texts.set(keys.audioManifest(VIDEO), JSON.stringify(partial));
  texts.set(keys.chunkManifest(VIDEO, 0), JSON.stringify(grouped(0, 2)));
  await packager.audioTranscoded({ videoId: VIDEO, ...partial, manifest: { bucket: 'src', key: keys.audioManifest(VIDEO) } }, ctx);
  t.same(published, ['video.playable'], 'playable with one audio segment');
  texts.set(keys.chunkManifest(VIDEO, 1), JSON.stringify(grouped(1, 2)));
  await packager.transcoded(event(grouped(1, 2)), ctx);
  t.match(texts.get(keys.mediaPlaylist(VIDEO, '360p')), /PLAYLIST-TYPE:EVENT/, 'every chunk is in, the audio is not: still growing');
  t.same(published, ['video.playable', 'video.playable']);
  texts.set(keys.audioManifest(VIDEO), JSON.stringify(audio));
  await packager.audioTranscoded({ videoId: VIDEO, ...audio, manifest: { bucket: 'src', key: keys.audioManifest(VIDEO) } }, ctx);
  t.match(texts.get(keys.audioPlaylist(VIDEO)), /PLAYLIST-TYPE:VOD[\s\S]*ENDLIST/);
  t.same(published.at(-1), 'video.packaged');
});

t.test("an owner's retry: the announcements carry the attempt in their ids, so none is dropped as a repeat of the failed try's", async (t) => {
  const second = (index: number): ChunkManifest => ({ ...manifest(index, 2), attempt: 2 });
  const texts = new Map([[keys.chunkManifest(VIDEO, 0), JSON.stringify(second(0))]]);
  const { storage, publisher, ids } = fakes(texts);
  await createPackager({ storage, publisher }).transcoded(event(second(1)), ctx);
  t.same(ids, [`${VIDEO}.playable.2`, `${VIDEO}.thumbnails.2`, `${VIDEO}.packaged.2`]);
  const first = fakes(new Map([[keys.chunkManifest(VIDEO, 0), JSON.stringify(manifest(0, 2))]]));
  await createPackager(first).transcoded(event(manifest(1, 2)), ctx);
  t.same(first.ids, [`${VIDEO}.playable`, `${VIDEO}.thumbnails`, `${VIDEO}.packaged`], 'the first attempt: the ids as before');
});
