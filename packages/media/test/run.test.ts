import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { isRetryableError } from '@reel/events';
import { resolveFfmpeg } from '../src/binaries.ts';
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

t.test('a remote source cut off mid-way, on which ffmpeg exits 0 with half the video, is retried, not taken as the video', async (t) => {
  const dir = t.testdir({});
  // its index first (faststart), as an upload often is: ffmpeg then reads the first half as video
  execFileSync(ffmpeg, ['-v', 'error', '-i', testClip(dir, 4), '-c', 'copy', '-movflags', '+faststart', join(dir, 'fast.mp4')]);
  const whole = readFileSync(join(dir, 'fast.mp4'));
  // announces the whole file, sends half, and drops the connection (an S3 server stopping)
  const http = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-length': whole.length, 'content-type': 'video/mp4' });
    res.write(whole.subarray(0, Math.floor(whole.length / 2)), () => res.socket?.destroy());
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => http.close(() => r())));
  const { port } = http.address() as { port: number };
  const err = (await runFfmpeg({
    bin: ffmpeg,
    input: `http://127.0.0.1:${port}/reel-sources/x`,
    outputOptions: ['-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mp4'],
    output: join(dir, 'cut.mp4'),
    what: 'test',
    action: 'transcode the video',
  }).catch((e: unknown) => e)) as Error;
  t.ok(isRetryableError(err), `retryable (${err?.message})`);
  t.match(err?.message, /^ffmpeg's read of the source was cut off: /);
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

t.test('a run of lower priority: ffmpeg and every thread it starts run at that nice value', async (t) => {
  const dir = t.testdir({});
  const source = testClip(dir, 20);
  const running = runFfmpeg({
    bin: ffmpeg,
    input: source,
    outputOptions: ['-c:v', 'libx264', '-preset', 'medium', '-f', 'mp4'],
    output: join(dir, 'slow.mp4'),
    what: 'test',
    action: 'transcode the video',
    niceness: 7,
  });
  const pid = await waitForFfmpeg(dir, 10_000);
  await new Promise((r) => setTimeout(r, 500)); // its encoder threads are up
  // field 19 of /proc/<pid>/task/<tid>/stat (after the command name in parentheses) is the nice value
  const nice = (file: string) => Number(readFileSync(file, 'utf8').split(') ')[1]?.split(' ')[16]);
  const threads = readdirSync(`/proc/${pid}/task`).map((tid) => nice(`/proc/${pid}/task/${tid}/stat`));
  t.ok(threads.length > 1, `${threads.length} threads`);
  t.same([...new Set(threads)], [7], 'all at nice 7');
  await running;
});
