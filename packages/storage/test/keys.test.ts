import t from 'tap';
import { keys } from '../src/mod.ts';

const id = '0b2e6df5-99f5-4847-8b2d-b5625b3e6e19';

t.test('keys are built from ids only and refuse anything else', async (t) => {
  t.equal(keys.source(id), `sources/${id}/original`);
  t.equal(keys.segment(id, '720p', 1, 12), `videos/${id}/hls/720p/seg-0001-00012.ts`);
  t.equal(keys.mediaPlaylist(id, '720p'), `videos/${id}/hls/720p/index.m3u8`);
  t.ok(keys.master(id).startsWith(keys.mediaPrefix(id)), 'everything published sits under the video prefix');
  for (const bad of ['../etc/passwd', `${id}/../x`, 'cat.mp4', '', id.toUpperCase()]) {
    t.throws(() => keys.source(bad), TypeError, `refuses ${JSON.stringify(bad)}`);
  }
  t.throws(() => keys.mediaPlaylist(id, '../720p'), TypeError);
});
