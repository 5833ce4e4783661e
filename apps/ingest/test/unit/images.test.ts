import t from 'tap';
import { planImages, planStoryboard } from '../../src/images.ts';
import { planChunks } from '../../src/ladder.ts';

const landscape = (durationSec: number) => ({ durationSec, displayWidth: 1280, displayHeight: 720 });

t.test('each image is planned in the one chunk its time falls in, away from the chunk’s end', async (t) => {
  const chunks = planChunks(40);
  const plans = planImages(landscape(40), chunks);
  t.equal(plans.length, chunks.length);
  t.same(
    plans.flatMap((p, c) => (p.poster ? [[c, p.poster.atSec, p.poster.width, p.poster.height]] : [])),
    [[1, 5, 1280, 720]],
    'one poster, at 5 s, in the chunk 4–16 s',
  );
  const thumbs = plans.flatMap((p) => p.thumbnails).sort((a, b) => a.index - b.index);
  t.same(
    thumbs.map((x) => x.index),
    [0, 1, 2, 3, 4],
    'five thumbnails, each once',
  );
  for (const [c, p] of plans.entries()) {
    const chunk = chunks[c];
    if (!chunk) continue;
    for (const x of [...p.thumbnails.map((th) => th.atSec), ...(p.poster ? [p.poster.atSec] : [])]) {
      t.ok(
        x >= chunk.startSec && x <= chunk.startSec + chunk.durationSec - 0.5,
        `${x} s lies in chunk ${c} (${chunk.startSec}–${chunk.startSec + chunk.durationSec} s), 0.5 s before its end`,
      );
    }
  }
  const tiles = plans.flatMap((p) => (p.storyboard ? Array.from({ length: p.storyboard.count }, (_, i) => (p.storyboard?.first ?? 0) + i) : []));
  t.same(
    tiles,
    Array.from({ length: 40 }, (_, k) => k),
    'every storyboard tile 0…39 once, in chunk order',
  );
  t.same(
    plans.map((p) => [p.storyboard?.first, p.storyboard?.count, p.storyboard?.columns]),
    [
      [0, 4, 4],
      [4, 12, 10],
      [16, 12, 10],
      [28, 12, 10],
    ],
    'a sprite per chunk, ten tiles to a row',
  );
});

t.test('a video made in one piece plans every image in its one chunk', async (t) => {
  const [plan] = planImages(landscape(9), planChunks(9));
  t.equal(plan?.poster?.atSec, 3, 'a third in for a video under 15 s');
  t.equal(plan?.thumbnails.length, 5);
  t.same([plan?.storyboard?.first, plan?.storyboard?.count], [0, 9]);
});

t.test('the storyboard: a tile every whole second or more, at most 100, none past the last frame; portrait tiles stand up', async (t) => {
  t.same(planStoryboard(landscape(25)), { intervalSec: 1, count: 25, tileWidth: 160, tileHeight: 90 });
  t.equal(planStoryboard(landscape(20.2)).count, 20, 'a tile at 20 s of a 20.2 s video could find no frame: not planned');
  t.same(planStoryboard({ durationSec: 600, displayWidth: 720, displayHeight: 1280 }), { intervalSec: 6, count: 100, tileWidth: 90, tileHeight: 160 });
  t.equal(planStoryboard(landscape(0.3)).count, 1, 'a very short video still has one tile');
});
