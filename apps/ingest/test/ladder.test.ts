import type { Probe } from '@reel/events';
import { probeOf } from '@reel/testing';
import t from 'tap';
import { planChunks, planLadder } from '../src/ladder.ts';

const probe = (p: Partial<Probe>): Probe => probeOf({ bitrate: 8_000_000, container: 'mp4', ...p });

t.test('a 1080p source gets five rungs, none above it, all even', async (t) => {
  const l = planLadder(probe({}));
  t.same(
    l.map((r) => r.name),
    ['1080p', '720p', '480p', '360p', '240p'],
  );
  for (const r of l) {
    t.equal(r.width % 2, 0);
    t.equal(r.height % 2, 0);
    t.ok(Math.abs(r.width / r.height - 16 / 9) < 0.02, `${r.name} keeps 16:9`);
    t.ok(r.maxrate > r.videoBitrate && r.bufsize > r.videoBitrate);
    t.equal(r.audioBitrate !== undefined, true);
  }
});

t.test('never above the source: a 720p source has no 1080p rung', async (t) => {
  t.same(
    planLadder(probe({ width: 1280, height: 720, displayWidth: 1280, displayHeight: 720 })).map((r) => r.name),
    ['720p', '480p', '360p', '240p'],
  );
});

t.test('portrait (rotated phone video) stays portrait', async (t) => {
  const l = planLadder(probe({ width: 1920, height: 1080, rotation: 90, displayWidth: 1080, displayHeight: 1920 }));
  t.equal(l[0]?.width, 1080);
  t.equal(l[0]?.height, 1920);
  for (const r of l) t.ok(r.height > r.width, `${r.name} is portrait`);
});

t.test('bitrate is capped by the source’s own bitrate', async (t) => {
  const l = planLadder(probe({ bitrate: 1_000_000 }));
  t.ok((l[0]?.videoBitrate ?? 0) <= 1_100_000, `top rung ${l[0]?.videoBitrate} ≤ 1.1 × source`);
  t.ok(
    l.every((r) => r.videoBitrate >= 150_000),
    'with a floor',
  );
});

t.test('a tiny or odd-sized source gets one rung at its own even size; no audio means no audio bitrate', async (t) => {
  const l = planLadder(probe({ width: 177, height: 101, displayWidth: 177, displayHeight: 101, hasAudio: false }));
  t.equal(l.length, 1);
  t.same([l[0]?.width, l[0]?.height], [176, 100]);
  t.equal(l[0]?.audioBitrate, undefined);
});

t.test('high frame rates are kept on top rungs and halved below 480p', async (t) => {
  const l = planLadder(probe({ fps: 60 }));
  t.equal(l[0]?.fps, 60);
  t.equal(l.at(-1)?.fps, 30);
});

t.test('chunks: one segment first, then whole chunks on segment boundaries, the last absorbing a short remainder', async (t) => {
  const plan = (d: number, c?: number) => planChunks(d, c).map((x) => [x.startSec, x.durationSec]);
  t.same(plan(10), [[0, 10]], 'shorter than a chunk and a segment: one work item');
  t.same(plan(15.9), [[0, 15.9]]);
  t.same(
    plan(17),
    [
      [0, 4],
      [4, 13],
    ],
    'a 1 s remainder joins the last chunk',
  );
  t.same(plan(60), [
    [0, 4],
    [4, 12],
    [16, 12],
    [28, 12],
    [40, 12],
    [52, 8],
  ]);
  t.same(
    plan(60, 24),
    [
      [0, 4],
      [4, 24],
      [28, 24],
      [52, 8],
    ],
    'configurable length',
  );
  const long = planChunks(600.04);
  t.equal(long.length, 51);
  t.ok(
    long.every((c, i) => c.index === i && c.count === 51 && Number.isInteger(c.startSec / 4)),
    'every start on a segment boundary',
  );
  t.equal(long.reduce((sum, c) => sum + c.durationSec, 0).toFixed(3), '600.040', 'the chunks cover the video exactly');
  t.throws(() => planChunks(60, 10), /not a whole number of 4 s segments/);
});
