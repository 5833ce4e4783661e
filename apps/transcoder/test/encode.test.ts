import t from 'tap';
import { codecsFor, ladderArgs, parseMediaPlaylist } from '../src/encode.ts';
import { planStoryboard, storyboardVtt } from '../src/thumbnails.ts';

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

t.test('parses segment files and durations from an ffmpeg playlist', async (t) => {
  t.same(parseMediaPlaylist('#EXTM3U\n#EXTINF:4.000000,\nseg-00000.ts\n#EXTINF:1.5,\nseg-00001.ts\n#EXT-X-ENDLIST\n'), [
    { file: 'seg-00000.ts', durationSec: 4 },
    { file: 'seg-00001.ts', durationSec: 1.5 },
  ]);
});

t.test('codec strings follow RFC 6381', async (t) => {
  t.equal(codecsFor(31, true), 'avc1.64001f,mp4a.40.2');
  t.equal(codecsFor(40, false), 'avc1.640028');
});

t.test('storyboard tiles cover the video and the VTT points into the sprite', async (t) => {
  const plan = planStoryboard(25, 1280, 720);
  t.same([plan.intervalSec, plan.count, plan.columns, plan.rows, plan.tileWidth, plan.tileHeight], [1, 25, 10, 3, 160, 90]);
  const vtt = storyboardVtt(plan, 25, 'storyboard.jpg');
  t.match(vtt, /^WEBVTT\n/);
  t.match(vtt, /00:00:00\.000 --> 00:00:01\.000\nstoryboard\.jpg#xywh=0,0,160,90/);
  t.match(vtt, /00:00:24\.000 --> 00:00:25\.000\nstoryboard\.jpg#xywh=640,180,160,90/);
  const portrait = planStoryboard(600, 720, 1280);
  t.same([portrait.intervalSec, portrait.count, portrait.tileWidth, portrait.tileHeight], [6, 100, 90, 160]);
});
