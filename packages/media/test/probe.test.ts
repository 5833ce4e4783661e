import { execFileSync } from 'node:child_process';
import { createReadStream, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { isPermanentError, isRetryableError, type PermanentError } from '@reel/events';
import { resolveFfmpeg } from '../src/binaries.ts';
import t from 'tap';
import { h264Level } from '../src/level.ts';
import { interpretProbe, probe, probeFailure } from '../src/probe.ts';
import { testClip } from './clip.ts';

/** A loopback TCP listener standing for an internal service: it records every connection made to it. */
async function trap(teardown: (fn: () => Promise<void>) => void): Promise<{ port: number; connections: number }> {
  const state = { port: 0, connections: 0 };
  const server: Server = createServer((socket) => {
    state.connections++;
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as { port: number }).port;
  teardown(() => new Promise<void>((r) => server.close(() => r())));
  return state;
}

/** The files an attacker uploads as "videos": each names a URL on the internal service. */
function attacks(dir: string, port: number): Record<string, string> {
  const target = `http://127.0.0.1:${port}`;
  const files = {
    hls: `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n${target}/seg.ts\n#EXT-X-ENDLIST\n`,
    dash: `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S" minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011"><BaseURL>${target}/</BaseURL><Period><AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="1000" codecs="avc1.64001f" width="640" height="360"><BaseURL>v.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>\n`,
    concat: `ffconcat version 1.0\nfile ${target}/a.mp4\n`,
  };
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    out[name] = join(dir, name);
    writeFileSync(out[name], text);
  }
  return out;
}

const { ffprobe, ffmpeg } = resolveFfmpeg();

t.test('a playlist, a manifest or a concat list is refused before it opens anything, as a file or by URL', async (t) => {
  const listener = await trap((fn) => t.teardown(fn));
  const dir = t.testdir({});
  const files = attacks(dir, listener.port);
  // the presigned URL path: the same files served over HTTP, as S3 would
  const http = createHttpServer((req, res) => createReadStream(join(dir, (req.url ?? '/').slice(1).split('?')[0] ?? '')).pipe(res));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => http.close(() => r())));
  const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  for (const [name, file] of Object.entries(files)) {
    for (const input of [file, `${base}/${name}?X-Amz-Credential=secret-cred&X-Amz-Signature=secret-sig`]) {
      const err = (await probe(ffprobe, input).catch((e: unknown) => e)) as PermanentError;
      t.ok(isPermanentError(err), `${name}: refused for good`);
      t.equal(err.code, 'unsupported_format', `${name}: unsupported_format`);
      t.match(err.message, /^the file is (an HLS playlist|a DASH manifest|a concat list), not a video file$/);
      t.notMatch(err.message, /secret|127\.0\.0\.1/);
    }
  }
  t.equal(listener.connections, 0, 'the internal service saw no connection');
});

t.test('real media is still recognised: a video is probed (and its H.264 level read), a still image is not_a_video', async (t) => {
  const dir = t.testdir({});
  const video = join(dir, 'clip');
  const still = join(dir, 'still');
  testClip(dir, 1, 'clip');
  execFileSync(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x64', '-frames:v', '1', '-f', 'image2', '-c:v', 'png', still]);
  const p = await probe(ffprobe, video);
  t.equal(p.width, 320);
  t.match(p.container, /mov/);
  t.equal(await h264Level(ffprobe, video), 13, 'x264 picked level 1.3 for 320×240 at 25 fps');
  const err = (await probe(ffprobe, still).catch((e: unknown) => e)) as PermanentError;
  t.equal(err.code, 'not_a_video');
});

t.test('why a probe failed: the media, the network, or the machine', async (t) => {
  const url = 'http://127.0.0.1:9000/reel-sources/sources/x/original?X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=abc123';
  const refused = probeFailure(
    { code: 1, stderr: `[tcp @ 0x55d] Connection to tcp://127.0.0.1:9000 failed: Connection refused\n${url}: Connection refused\n` },
    url,
  );
  t.ok(isRetryableError(refused), 'connection refused is retried');
  t.equal(refused.message, 'could not read the source: Connection refused');
  const s503 = probeFailure({ code: 1, stderr: `[http @ 0x1] HTTP error 503 Service Unavailable\n${url}: Server returned 5XX Server Error reply\n` }, url);
  t.ok(isRetryableError(s503), 'a 5xx is retried');
  const text = probeFailure({ code: 1, stderr: `${url}: Invalid data found when processing input\n` }, url) as PermanentError;
  t.equal(text.code, 'unreadable');
  t.equal(text.message, 'the file is not a readable video: Invalid data found when processing input');
  const truncated = probeFailure(
    { code: 1, stderr: '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5] moov atom not found\n/tmp/x/source: Invalid data found when processing input\n' },
    '/tmp/x/source',
  );
  t.equal(truncated.message, 'the file is not a readable video: Invalid data found when processing input');
  t.ok(
    isRetryableError(probeFailure({ code: 127, stderr: 'setpriv: failed to execute ffprobe: No such file or directory' }, url)),
    'a missing ffprobe is an operator problem',
  );
  t.ok(isRetryableError(probeFailure({ killed: true, signal: 'SIGKILL' }, url)), 'a timeout is retried');
  const ctl = new AbortController();
  const reason = new Error('video deleted');
  ctl.abort(reason);
  t.equal(probeFailure({ killed: true, signal: 'SIGKILL' }, url, ctl.signal), reason, 'an abort keeps its reason');
  for (const e of [refused, s503, text]) t.notMatch(e.message, /AKIA|abc123|X-Amz/);
});

t.test('interpretProbe says why a file is not a video', async (t) => {
  t.throws(() => interpretProbe({ streams: [{ codec_type: 'audio', codec_name: 'aac' }], format: { duration: '3' } }), { code: 'no_video_stream' });
  t.throws(() => interpretProbe({ streams: [{ codec_type: 'video', codec_name: 'png', width: 10, height: 10, nb_frames: '1' }], format: {} }), {
    code: 'not_a_video',
  });
  t.throws(() => interpretProbe({ streams: [], format: {} }), { code: 'unsupported_format' });
  const p = interpretProbe({
    streams: [{ codec_type: 'video', codec_name: 'h264', width: 1920, height: 1080, avg_frame_rate: '30000/1001', side_data_list: [{ rotation: -90 }] }],
    format: { duration: '5.0', bit_rate: '4000000', format_name: 'mov,mp4' },
  });
  t.same([p.displayWidth, p.displayHeight, p.rotation, p.fps, p.hasAudio], [1080, 1920, 270, 29.97, false]);
});
