import t from 'tap';
import { even } from '../src/even.ts';
import { frameArgs, storyboardArgs } from '../src/frame-args.ts';
import { alignedSegmentSec, KEYFRAME_SEC, ladderArgs, segmentsAlign } from '../src/ladder-args.ts';

const rung = (name: string, width: number, height: number) => ({
  name,
  width,
  height,
  videoBitrate: 1_000_000,
  maxrate: 1_500_000,
  bufsize: 2_000_000,
  audioBitrate: 96_000,
  fps: 30,
});

t.test('one decode feeds every rung; keyframes at fixed times; no scene cuts', async (t) => {
  const a = ladderArgs({
    ladder: [rung('720p', 1280, 720), rung('360p', 640, 360)],
    chunk: { index: 0, count: 1, startSec: 0, durationSec: 10 },
    audio: true,
    segmentSec: 4,
    outDir: '/o',
  });
  const fc = a.outputOptions[a.outputOptions.indexOf('-filter_complex') + 1] ?? '';
  t.match(fc, /^\[0:v:0\]format=yuv420p,split=2\[s0\]\[s1\];/);
  t.match(fc, /scale=1280:720/);
  t.match(a.outputOptions.join(' '), /-force_key_frames expr:gte\(t,n_forced\*2\) -sc_threshold 0/);
  t.match(a.outputOptions.join(' '), /-profile:v high -pix_fmt yuv420p/);
  t.match(a.outputOptions.join(' '), /-c:a aac -ac 2/);
  t.equal(a.outputOptions[a.outputOptions.indexOf('-var_stream_map') + 1], 'v:0,a:0 v:1,a:1');
  const silent = ladderArgs({
    ladder: [rung('360p', 640, 360)],
    chunk: { index: 0, count: 1, startSec: 0, durationSec: 10 },
    audio: false,
    segmentSec: 4,
    outDir: '/o',
  });
  t.notOk(silent.outputOptions.includes('0:a:0'), 'no audio map without audio');
  t.equal(silent.outputOptions[silent.outputOptions.indexOf('-var_stream_map') + 1], 'v:0');
});

t.test('even dimensions round down, never below 2', async (t) => {
  t.same([even(853.33), even(854), even(201), even(1), even(0)], [852, 854, 200, 2, 2]);
});

t.test('segments must start on the forced keyframes', async (t) => {
  t.equal(KEYFRAME_SEC, 2);
  t.ok(segmentsAlign(4));
  t.ok(segmentsAlign(6));
  for (const bad of [3, 5, 1, 0, -4, 4.5]) t.notOk(segmentsAlign(bad), `${bad} s refused`);
  t.equal(alignedSegmentSec(4), 4);
  t.throws(() => alignedSegmentSec(3), RangeError);
  const work = { ladder: [rung('360p', 640, 360)], chunk: { index: 0, count: 1, startSec: 0, durationSec: 10 }, audio: false, outDir: '/o' };
  t.throws(() => ladderArgs({ ...work, segmentSec: 5 }), RangeError, 'the ladder refuses misaligned segments');
});

t.test('a frame keeps the display aspect ratio at an even size; a storyboard tiles its frames', async (t) => {
  const f = frameArgs({ atSec: 2.5, width: 320, display: { width: 854, height: 480 } });
  t.same(f.inputOptions, ['-ss', '2.5']);
  t.equal(f.outputOptions[1], 'scale=320:178');
  t.match(f.outputOptions.join(' '), /-f image2 -update 1 -frames:v 1/);
  const s = storyboardArgs({ intervalSec: 6, tileWidth: 160, tileHeight: 90, columns: 10, rows: 10 });
  t.equal(s.outputOptions[1], 'fps=1/6,scale=160:90,tile=10x10');
});
