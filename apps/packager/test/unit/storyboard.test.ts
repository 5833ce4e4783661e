import t from 'tap';
import { gatherImages, storyboardVtt } from '../../src/storyboard.ts';

const sprite = (chunk: number, first: number, count: number) => ({
  key: `videos/v/images/storyboard-000${chunk}.jpg`,
  first,
  count,
  columns: Math.min(10, count),
  intervalSec: 1,
  tileWidth: 160,
  tileHeight: 90,
});

t.test('the storyboard VTT stitches the chunks’ sprites: one cue per tile, in time order, each at its place in its sprite', async (t) => {
  const vtt = storyboardVtt([sprite(1, 4, 12), sprite(0, 0, 4)], 15.5);
  t.match(vtt, /^WEBVTT\n\n00:00:00\.000 --> 00:00:01\.000\nstoryboard-0000\.jpg#xywh=0,0,160,90\n/);
  t.match(vtt, /00:00:03\.000 --> 00:00:04\.000\nstoryboard-0000\.jpg#xywh=480,0,160,90\n/, 'the last tile of the first sprite');
  t.match(vtt, /00:00:04\.000 --> 00:00:05\.000\nstoryboard-0001\.jpg#xywh=0,0,160,90\n/, 'then the next sprite from its start');
  t.match(vtt, /00:00:14\.000 --> 00:00:15\.000\nstoryboard-0001\.jpg#xywh=0,90,160,90\n/, 'the eleventh tile of a sprite starts its second row');
  t.match(vtt, /00:00:15\.000 --> 00:00:15\.500\nstoryboard-0001\.jpg#xywh=160,90,160,90\n/, 'the last cue ends with the video');
  t.equal(vtt.match(/-->/g)?.length, 16, 'sixteen tiles, sixteen cues');
});

t.test('the images of every chunk, gathered', async (t) => {
  const renditions: never[] = [];
  const chunk = (index: number, images?: object) => ({
    chunk: { index, count: 3, startSec: index * 4, durationSec: 4 },
    renditions,
    ...(images ? { images } : {}),
  });
  const got = gatherImages([
    chunk(0, { thumbnails: [{ index: 1, key: 't1' }], storyboard: sprite(0, 0, 4) }),
    chunk(1, { poster: 'p', thumbnails: [{ index: 0, key: 't0' }], storyboard: sprite(1, 4, 4) }),
    chunk(2),
  ] as never);
  t.equal(got.poster, 'p');
  t.same(
    got.thumbnails.map((x) => x.key),
    ['t0', 't1'],
    'thumbnails by index',
  );
  t.same(
    got.sprites.map((s) => s.first),
    [0, 4],
  );
});
