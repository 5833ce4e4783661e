import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import t from 'tap';

// Issue 14.2: a text file uploaded as a video must not make the workers fetch what it names.
t.test('an uploaded HLS playlist, DASH manifest or concat list makes no outbound connection and fails clearly', async (t) => {
  // the "internal service" an attacker points at: it records every connection
  let connections = 0;
  const internal = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((r) => internal.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => internal.close(() => r())));
  const target = `http://127.0.0.1:${(internal.address() as { port: number }).port}`;

  const dir = t.testdir({});
  const files: Record<string, string> = {
    'playlist.mp4': `#EXTM3U\n#EXT-X-TARGETDURATION:4\n${Array.from({ length: 20 }, (_, i) => `#EXTINF:4,\n${target}/seg-${i}.ts`).join('\n')}\n#EXT-X-ENDLIST\n`,
    'manifest.mpd': `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S" minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011"><BaseURL>${target}/</BaseURL><Period><AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="1000" codecs="avc1.64001f" width="640" height="360"><BaseURL>v.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>\n`,
    'list.ffconcat': `ffconcat version 1.0\nfile ${target}/a.mp4\n`,
  };
  const platform = await startTestPlatform((fn) => t.teardown(fn));
  const token = await platform.token('mallory');
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    const res = await uploadFile(platform.url, token, join(dir, name));
    t.equal(res.status, 202, `${name} accepted for processing`);
    const { id } = (await res.json()) as { id: string };
    const video = (await waitForVideo(platform.url, token, id, ['failed', 'ready'], 60_000)) as unknown as {
      status: string;
      error?: { code: string; stage: string; message: string };
    };
    t.equal(video.status, 'failed', `${name} failed`);
    t.equal(video.error?.code, 'unsupported_format', `${name}: ${video.error?.message}`);
    t.equal(video.error?.stage, 'ingest');
    t.match(video.error?.message, /^the file is (an HLS playlist|a DASH manifest|a concat list), not a video file$/);
    t.notMatch(video.error?.message, /X-Amz|127\.0\.0\.1|http/);
  }
  t.equal(connections, 0, 'the internal service saw no connection');
});
