import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { isRetryableError } from '@reel/events';
import { resolveFfmpeg } from '@reel/runtime';
import t from 'tap';
import { type FfmpegError, ffmpegOptions, isFfmpegError, runFfmpeg } from '../src/run.ts';
import { testClip } from './clip.ts';
import { isRunning, waitForFfmpeg } from './procs.ts';

const { ffmpeg } = resolveFfmpeg();
const JPEG = ['-f', 'image2', '-update', '1', '-frames:v', '1'];

t.test('the input is confined: media containers only, and only the protocol its location needs', async (t) => {
  const local = ffmpegOptions({ input: '/w/source', inputOptions: ['-ss', '3'], outputOptions: ['-f', 'mp4'] });
  t.match(local.inputOptions.join(' '), /-progress pipe:2 -format_whitelist \S*mov\S* -protocol_whitelist file -ss 3$/);
  t.notMatch(local.inputOptions[local.inputOptions.indexOf('-format_whitelist') + 1] ?? '', /\b(hls|dash|concat)\b/);
  t.same(local.outputOptions, ['-f', 'mp4']);
  const remote = ffmpegOptions({ input: 'https://s3/x?sig', outputOptions: [] });
  t.match(remote.inputOptions.join(' '), /-protocol_whitelist http,https,tcp,tls$/);
});

t.test('a run reports progress and writes its output', async (t) => {
  const dir = t.testdir({});
  const source = testClip(dir, 2);
  const seen: number[] = [];
  await runFfmpeg({
    bin: ffmpeg,
    input: source,
    outputOptions: ['-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mp4'],
    output: join(dir, 'out.mp4'),
    what: 'test',
    action: 'transcode the video',
    onProgress: (s) => seen.push(s),
  });
  t.ok(existsSync(join(dir, 'out.mp4')));
  t.ok(seen.length > 0 && Math.max(...seen) > 1.5, `progress reported (${seen.at(-1)} s)`);
});

t.test('a playlist reaching ffmpeg (a swapped source) opens nothing and fails for good', async (t) => {
  let connections = 0;
  const trap = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => trap.close(() => r())));
  const port = (trap.address() as { port: number }).port;
  const dir = t.testdir({});
  const playlist = `#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nhttp://127.0.0.1:${port}/seg.ts\n#EXT-X-ENDLIST\n`;
  writeFileSync(join(dir, 'source'), playlist);
  const http = createHttpServer((_req, res) => res.end(playlist));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => http.close(() => r())));
  const url = `http://127.0.0.1:${(http.address() as { port: number }).port}/original?X-Amz-Signature=secret-sig`;
  for (const input of [join(dir, 'source'), url]) {
    const err = (await runFfmpeg({ bin: ffmpeg, input, outputOptions: JPEG, output: join(dir, 'x.jpg'), what: 'frame', action: 'extract a frame' }).catch(
      (e: unknown) => e,
    )) as FfmpegError;
    t.ok(isFfmpegError(err), 'the media is at fault');
    t.equal(err.message, 'ffmpeg could not extract a frame: not a supported media container');
    t.notMatch(err.stderr, /secret-sig/);
  }
  t.equal(connections, 0, 'no connection was made');
});

t.test('an unreachable source is retried; a damaged file fails in one sentence', async (t) => {
  const dir = t.testdir({});
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const url = `http://127.0.0.1:${port}/reel-sources/x?X-Amz-Credential=AKIA&X-Amz-Signature=sig`;
  const down = (await runFfmpeg({ bin: ffmpeg, input: url, outputOptions: JPEG, output: join(dir, 'x.jpg'), what: 'frame', action: 'extract a frame' }).catch(
    (e: unknown) => e,
  )) as Error;
  t.ok(isRetryableError(down), 'connection refused is retryable, not a media failure');
  t.equal(down.message, 'ffmpeg could not read the source: Connection refused');
  const source = testClip(dir, 2);
  writeFileSync(source, readFileSync(source).subarray(0, 2000));
  const bad = (await runFfmpeg({
    bin: ffmpeg,
    input: source,
    outputOptions: JPEG,
    output: join(dir, 'y.jpg'),
    what: 'frame',
    action: 'transcode the video',
  }).catch((e: unknown) => e)) as FfmpegError;
  t.ok(isFfmpegError(bad));
  t.equal(bad.message, 'ffmpeg could not transcode the video: Invalid data found when processing input');
  t.notMatch(bad.message, /ffmpeg version|Copyright|configuration:/);
});

t.test('an abort kills ffmpeg at once and rejects with its reason', async (t) => {
  const dir = t.testdir({});
  const source = testClip(dir, 1);
  const ctl = new AbortController();
  const run = runFfmpeg({
    bin: ffmpeg,
    input: source,
    inputOptions: ['-stream_loop', '-1'],
    outputOptions: ['-c:v', 'libx264', '-preset', 'veryslow', '-f', 'mp4'],
    output: join(dir, 'long.mp4'),
    signal: ctl.signal,
    what: 'test',
    action: 'transcode the video',
  });
  const pid = await waitForFfmpeg(dir);
  const reason = new Error('video deleted');
  const killedAt = Date.now();
  ctl.abort(reason);
  t.equal(await run.catch((e: unknown) => e), reason);
  while (isRunning(pid) && Date.now() - killedAt < 5000) await new Promise((r) => setTimeout(r, 20));
  t.notOk(isRunning(pid), `ffmpeg gone ${Date.now() - killedAt} ms after the abort`);
});

t.test('a missing ffmpeg is the operator’s problem: retried, not a media failure', async (t) => {
  const dir = t.testdir({});
  const err = (await runFfmpeg({
    bin: join(dir, 'no-such-ffmpeg'),
    input: testClip(dir, 1),
    outputOptions: JPEG,
    output: join(dir, 'x.jpg'),
    what: 'frame',
    action: 'extract a frame',
  }).catch((e: unknown) => e)) as Error;
  t.ok(isRetryableError(err), err.message);
  t.match(err.message, /^ffmpeg could not be started/);
  // the real one works again afterwards (fluent-ffmpeg keeps one path per process)
  await runFfmpeg({ bin: ffmpeg, input: join(dir, 'source'), outputOptions: JPEG, output: join(dir, 'y.jpg'), what: 'frame', action: 'extract a frame' });
  t.ok(existsSync(join(dir, 'y.jpg')));
});
