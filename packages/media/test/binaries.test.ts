import { existsSync } from 'node:fs';
import t from 'tap';
import { resolveFfmpeg } from '../src/binaries.ts';

t.test('the binaries: FFMPEG_PATH/FFPROBE_PATH first, else ffmpeg-static’s file if present, else the PATH names', async (t) => {
  t.same(resolveFfmpeg({ FFMPEG_PATH: '/opt/ff/ffmpeg', FFPROBE_PATH: '/opt/ff/ffprobe' }), { ffmpeg: '/opt/ff/ffmpeg', ffprobe: '/opt/ff/ffprobe' });
  const found = resolveFfmpeg({ FFMPEG_PATH: '' });
  for (const [name, bin] of Object.entries(found)) t.ok(bin === name || existsSync(bin), `${name}: ${bin}`);
});
