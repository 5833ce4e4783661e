import t from 'tap';
import { codecsFor, parseMediaPlaylist } from '../src/rendition.ts';

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
