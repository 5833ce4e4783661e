import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeClip, startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import { pipelineReport } from '@reel/testing';
import t, { type Test } from 'tap';
import { ffmpegPids, waitForFfmpeg } from '@reel/media/testing';

/** Seconds a server stays down; REEL_OUTAGE_SEC=120 replays the two-minute outage the retry budget is sized for. */
const OUTAGE_SEC = Number(process.env.REEL_OUTAGE_SEC ?? 30);

// Issue 9.3: an outage of storage or of NATS is waited out; it never fails a video, and the
// finished encode is kept (stored or reported once the server is back).
const OUTAGES = [
  {
    part: 'nats',
    name: 'NATS',
    title: `NATS down for ${OUTAGE_SEC} s mid-encode: the video ends ready with every image`,
    // 20 s: cut into three chunks, each encoded while NATS is away
    seconds: 20,
    // the encode runs on; its heartbeats, progress and final publish meet a dead connection
    // the server may redeliver the work item once it is back (its ack wait ran out meanwhile)
    encodes: (t: Test, byChunk: Map<string, number>, _during: string) =>
      t.ok(
        [...byChunk.values()].every((n) => n <= 2),
        `each chunk encoded at most twice: ${JSON.stringify(Object.fromEntries(byChunk))}`,
      ),
  },
  {
    part: 's3',
    name: 'S3',
    title: `S3 down for ${OUTAGE_SEC} s mid-pipeline: the video ends ready with every image, encoded once`,
    // 12 s: one work item, encoded from a local copy, so only its uploads meet the outage (a
    // chunk of a longer video reads the source over HTTP: an outage then costs that chunk again)
    seconds: 12,
    // the encode has its local copy; thumbnails read the source over HTTP; uploads are to come
    encodes: (t: Test, byChunk: Map<string, number>, during: string) =>
      t.equal(byChunk.get(during), 1, `the encode was done once (from ${during} s): finished segments waited for storage`),
  },
] as const;

for (const outage of OUTAGES) {
  t.test(outage.title, async (t) => {
    const dir = t.testdir({});
    const workDir = join(dir, 'work');
    mkdirSync(workDir);
    const clip = makeClip(dir, 'landscape', outage.seconds);
    // the apps' warnings, kept to say what happened if the video does not end ready
    const lines: string[] = [];
    const log = (source: string, line: string) => {
      if (lines.push(`${source}: ${line}`) > 400) lines.shift();
      if (process.env.REEL_TEST_LOGS) console.error(`[${source}] ${line}`);
    };
    const platform = await startTestPlatform((fn) => t.teardown(fn), { env: { WORK_DIR: workDir }, log });
    const token = await platform.token('alice');
    const server = platform.infra.parts.get(outage.part);
    if (!server) throw new Error(`the test platform runs no ${outage.name} server of its own`);

    const res = await uploadFile(platform.url, token, clip);
    t.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    // every encode started for the video, seen from /proc, by the chunk it encodes (its -ss)
    const encodes = new Map<number, string>();
    const seen = (pid: number) => {
      if (encodes.has(pid)) return;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      encodes.set(pid, argv.includes('-ss') ? (argv[argv.indexOf('-ss') + 1] ?? '0') : '0');
    };
    const watch = setInterval(() => {
      for (const pid of ffmpegPids(join(workDir, 'reel-transcode-'))) seen(pid);
    }, 100);
    t.teardown(() => clearInterval(watch));
    const first = await waitForFfmpeg(join(workDir, 'reel-transcode-'), 60_000);
    seen(first);
    const during = encodes.get(first) ?? '0';

    await server.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_SEC * 1000));
    await server.start();
    const upAt = Date.now();
    t.comment(`${outage.name} was down ${Math.round((upAt - downAt) / 1000)} s`);

    type Seen = { status: string; error?: { code: string; message: string }; playback?: { poster?: string; thumbnails?: string[]; storyboard?: string } };
    const video = (await waitForVideo(platform.url, token, id, ['ready', 'failed'], 300_000 + OUTAGE_SEC * 1000).catch(async (err: Error) => {
      t.comment(`${err.message}\n${await pipelineReport(platform.env.NATS_URL ?? '', id)}\n${lines.join('\n')}`);
      return { status: 'stuck' };
    })) as Seen;
    t.equal(video.status, 'ready', video.error ? `${video.error.code}: ${video.error.message}` : 'ready');
    t.comment(`ready ${Math.round((Date.now() - upAt) / 1000)} s after ${outage.name} came back`);
    t.ok(video.playback?.poster, 'a poster');
    t.equal(video.playback?.thumbnails?.length, 5, 'five thumbnails');
    t.ok(video.playback?.storyboard, 'a storyboard');
    t.equal((await fetch(video.playback?.poster ?? '')).status, 200, 'the poster is stored');
    const byChunk = new Map<string, number>();
    for (const start of encodes.values()) byChunk.set(start, (byChunk.get(start) ?? 0) + 1);
    outage.encodes(t, byChunk, during);
  });
}
