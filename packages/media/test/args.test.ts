import t from 'tap';
import { rungOf } from '@reel/testing';
import { even } from '../src/even.ts';
import { imageBranches } from '../src/frame-args.ts';
import { alignedSegmentSec, audioArgs, KEYFRAME_SEC, ladderArgs, SPLIT_TS_BASE_SEC, segmentsAlign } from '../src/ladder-args.ts';

const rung = (name: string, width: number, height: number) => rungOf(name, width, height);
/** One 360p rung of a 10 s one-piece video without audio, 4 s segments, unless told otherwise. */
const work = (over: Partial<Parameters<typeof ladderArgs>[0]> = {}) =>
  ladderArgs({
    ladder: [rung('360p', 640, 360)],
    chunk: { index: 0, count: 1, startSec: 0, durationSec: 10 },
    audio: false,
    segmentSec: 4,
    outDir: '/o',
    ...over,
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
  const silent = work();
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
  t.throws(() => work({ segmentSec: 5 }), RangeError, 'the ladder refuses misaligned segments');
});

t.test("a chunk's images: branches of the same decode, each the first frame at or after its time in the chunk", async (t) => {
  const chunk = { index: 1, count: 3, startSec: 4, durationSec: 12 };
  const images = {
    poster: { atSec: 5, width: 1280, height: 720 },
    thumbnails: [{ index: 2, atSec: 13.333 }],
    thumbnailSize: { width: 320, height: 180 },
    storyboard: { first: 4, count: 12, columns: 10, intervalSec: 1, tileWidth: 160, tileHeight: 90 },
  };
  const b = imageBranches(images, chunk, '/w/images');
  t.same(
    b.map((x) => [x.name, x.file]),
    [
      ['poster', '/w/images/poster.jpg'],
      ['thumb-2', '/w/images/thumb-2.jpg'],
      ['storyboard', '/w/images/storyboard.jpg'],
    ],
  );
  t.equal(b[0]?.filter, "setpts=PTS-STARTPTS,select='gte(t,1)*not(gte(prev_t,1))',scale=1280:720,setsar=1", 'the poster at 5 s is 1 s into the chunk');
  t.match(b[1]?.filter, /gte\(t,9\.333\).*scale=320:180/);
  t.match(
    b[2]?.filter,
    /^setpts=PTS-STARTPTS,select='gte\(t,0\)\*not\(gte\(prev_t,0\)\)\+gte\(t,1\).*gte\(t,11\)\*not\(gte\(prev_t,11\)\)',scale=160:90,setsar=1,tile=10x2$/,
    'tiles 4…15 at 0…11 s, 10 to a row',
  );
  const a = work({ chunk, images });
  const graph = a.outputOptions[a.outputOptions.indexOf('-filter_complex') + 1] ?? '';
  t.match(graph, /split=4\[s0\]\[s1\]\[s2\]\[s3\]/, 'one split: the rung and three images');
  t.match(graph, /\[s1\]setpts=PTS-STARTPTS,select=.*\[i0\]/);
  const out = a.outputOptions.join(' ');
  t.match(out, '-map [i0] -f image2 -update 1 -frames:v 1 -q:v 3 /o/images/poster.jpg', 'each image its own one-frame JPEG output');
  t.ok(out.indexOf('storyboard.jpg') < out.indexOf('-c:v libx264'), 'before the HLS output, whose options follow');
  t.notMatch(work({ chunk }).outputOptions.join(' '), /image2/, 'no images planned: none made');
});

t.test('a chunk of several: its range read, its timestamps kept where they lie in the whole video', async (t) => {
  const chunk = { index: 2, count: 5, startSec: 16, durationSec: 12 };
  const a = work({ chunk });
  t.same(a.inputOptions, ['-ss', '16', '-t', '12'], 'input seeking: only the range is decoded');
  const i = a.outputOptions.indexOf('-output_ts_offset');
  t.equal(a.outputOptions[i + 1], String(SPLIT_TS_BASE_SEC + 16), 'on the common time line');
  t.notOk(a.outputOptions.includes('0:a:0'), 'no audio in a video chunk');
  const one = work({ audio: true });
  t.notOk(one.outputOptions.includes('-output_ts_offset'), 'a one-piece video is encoded as before');
});

t.test('the audio rendition: the first audio stream, no video, on the chunks’ time line, aligned segments', async (t) => {
  const a = audioArgs({ bitrate: 96_000, segmentSec: 4, outDir: '/o/audio' });
  const o = a.outputOptions;
  t.equal(o[o.indexOf('-map') + 1], '0:a:0');
  t.ok(o.includes('-vn'));
  t.equal(o[o.indexOf('-b:a') + 1], '96000');
  t.equal(o[o.indexOf('-output_ts_offset') + 1], String(SPLIT_TS_BASE_SEC));
  t.equal(o[o.indexOf('-hls_time') + 1], '4');
  t.equal(a.output, '/o/audio/index.m3u8');
  t.throws(() => audioArgs({ bitrate: 96_000, segmentSec: 3, outDir: '/o' }), RangeError, 'segments must start on keyframes');
});
