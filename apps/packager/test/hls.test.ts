import type { Rung } from '@reel/events';
import t from 'tap';
import { joinChunks, masterPlaylist, measure, mediaPlaylist } from '../src/hls.ts';

const rung: Rung = { name: '720p', width: 1280, height: 720, videoBitrate: 2_800_000, maxrate: 4_200_000, bufsize: 5_600_000, fps: 30 };
const seg = (chunk: number, n: number, durationSec: number, bytes: number) => ({ key: `videos/x/hls/720p/seg-000${chunk}-0000${n}.ts`, durationSec, bytes });

t.test('BANDWIDTH is the peak segment bitrate, AVERAGE-BANDWIDTH the mean', async (t) => {
  const m = measure([seg(0, 0, 4, 1_000_000), seg(0, 1, 4, 2_000_000), seg(0, 2, 1.5, 100_000)]);
  t.equal(m.peak, 4_000_000);
  t.equal(m.average, Math.ceil((3_100_000 * 8) / 9.5));
  t.equal(m.durationSec, 9.5);
});

t.test('media playlist: VOD, ENDLIST, TARGETDURATION covers every EXTINF', async (t) => {
  const text = mediaPlaylist([seg(0, 0, 4, 1), seg(0, 1, 4.2, 1)]);
  t.match(text, /#EXT-X-TARGETDURATION:5\n/);
  t.match(text, /#EXT-X-PLAYLIST-TYPE:VOD/);
  t.match(text, /#EXT-X-INDEPENDENT-SEGMENTS/);
  t.match(text, /#EXTINF:4\.200000,\nseg-0000-00001\.ts\n#EXT-X-ENDLIST\n$/);
});

t.test('chunks are joined in order whatever order they arrive in', async (t) => {
  const joined = joinChunks([
    { chunk: { index: 1 }, renditions: [{ rung, codecs: 'avc1.64001f', segments: [seg(1, 0, 4, 1)] }] },
    { chunk: { index: 0 }, renditions: [{ rung, codecs: 'avc1.64001f', segments: [seg(0, 0, 4, 1), seg(0, 1, 4, 1)] }] },
  ]);
  t.same(
    joined[0]?.segments.map((s) => s.key.slice(-13)),
    ['seg-0000-00000.ts', 'seg-0000-00001.ts', 'seg-0001-00000.ts'].map((k) => k.slice(-13)),
  );
});

t.test('master lists every variant with the attributes players need', async (t) => {
  const text = masterPlaylist([{ rung, codecs: 'avc1.64001f,mp4a.40.2', bandwidth: 3_000_000, averageBandwidth: 2_800_000, uri: '720p/index.m3u8' }]);
  t.match(text, /^#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n/);
  t.match(
    text,
    /#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2800000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000\n720p\/index.m3u8/,
  );
});
