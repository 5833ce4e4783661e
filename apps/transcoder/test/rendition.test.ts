import t from 'tap';
import { codecsFor, parseMediaPlaylist } from '../src/rendition.ts';
import { planStoryboard, storyboardVtt } from '../src/thumbnails.ts';

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
