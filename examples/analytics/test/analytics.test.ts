// Integration: the analytics subscriber, run as its own process (`node src/main.ts`) beside the whole
// test platform, counts what the uploads made of it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { makeBadInput, makeClip, poll, startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import t from 'tap';
import type { Stats } from '../src/fold.ts';

const dir = mkdtempSync(join(tmpdir(), 'reel-analytics-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const platform = await startTestPlatform(t.teardown);
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

/** Starts the subscriber; resolves with its URL once it serves. */
async function startSubscriber(extraEnv: Record<string, string> = {}): Promise<{ url: string; proc: ChildProcess; exited: Promise<number | null> }> {
  const proc = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, NATS_URL: platform.env.NATS_URL, PORT: '0', ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      if (process.env.REEL_TEST_LOGS) process.stderr.write(`[analytics] ${line}\n`);
      const l = JSON.parse(line) as { msg?: string; port?: number };
      if (l.msg === 'analytics serving /metrics and /stats') resolve(`http://127.0.0.1:${l.port}`);
    });
    exited.then((code) => reject(new Error(`analytics exited with ${code} before serving`)));
  });
  return { url, proc, exited };
}

const stats = async (url: string) => (await (await fetch(`${url}/stats`)).json()) as Stats;

/** Polls /stats until `done` holds (the subscriber is eventually consistent with the stream). */
const statsWhen = (url: string, done: (s: Stats) => boolean): Promise<Stats> => poll(() => stats(url), done, { timeoutMs: 30_000, everyMs: 200 });

const upload = async (owner: string, file: string, title: string) => {
  const token = await platform.token(owner);
  const res = await uploadFile(platform.url, token, file, { title });
  if (res.status !== 202) throw new Error(`upload of ${file}: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  return { id, owner, token, size: statSync(file).size };
};

t.test('2 clips and 1 bad file: the subscriber counts them, from the stream’s start', async (t) => {
  const clip1 = makeClip(dir, 'landscape', 3);
  const clip2 = makeClip(dir, 'silent', 4);
  const bad = makeBadInput(dir, 'image');

  // the first video is ready BEFORE the subscriber exists: it must replay the stream from its start
  const first = await upload('ann', clip1, 'first');
  const v1 = await waitForVideo(platform.url, first.token, first.id, ['ready', 'failed'], 180_000);
  t.equal(v1.status, 'ready');

  const sub = await startSubscriber();
  const [second, third] = await Promise.all([upload('bob', clip2, 'second'), upload('ann', bad, 'not a video')]);
  const v2 = await waitForVideo(platform.url, second.token, second.id, ['ready', 'failed'], 180_000);
  const v3 = await waitForVideo(platform.url, third.token, third.id, ['ready', 'failed'], 180_000);
  t.equal(v2.status, 'ready');
  t.equal(v3.status, 'failed');
  const error = v3.error as { stage: string; code: string };

  // views, as the player's beacon sends them: ann watches hers twice (counted once), bob his once
  const view = (id: string, token: string) => fetch(`${platform.url}/v1/videos/${id}/views`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  for (const [id, token] of [
    [first.id, first.token],
    [first.id, first.token],
    [second.id, second.token],
  ] as const) {
    t.equal((await view(id, token)).status, 202, 'the beacon is accepted');
  }

  // views come after the videos' events in the stream: the numbers are complete with them
  const complete = (x: Stats) => x.ready === 2 && x.failed.total === 1 && Object.keys(x.views ?? {}).length === 2;
  const s = await statsWhen(sub.url, complete);
  t.equal(s.uploads, 3, 'three uploads');
  t.equal(s.ready, 2, 'two ready');
  t.same(s.failed, { total: 1, byStageCode: [{ stage: error.stage, code: error.code, videos: 1 }] }, `one failed, at ${error.stage}/${error.code}`);
  t.match(error, { stage: 'ingest', code: 'not_a_video' }, 'a still image is not a video');
  t.same(
    Object.fromEntries(Object.entries(s.owners).map(([o, v]) => [o, v.bytes])),
    { ann: first.size + third.size, bob: second.size },
    'bytes per owner: the sizes of the files they uploaded',
  );
  t.same(
    Object.fromEntries(Object.entries(s.owners).map(([o, v]) => [o, Math.round(v.minutes * 60 * 100) / 100])),
    { ann: Math.round((v1.duration as number) * 100) / 100, bob: Math.round((v2.duration as number) * 100) / 100 },
    'minutes of video per owner: the durations the API shows (`duration`)',
  );
  t.equal(s.timeToReadySec.count, 2);
  t.ok(
    (s.timeToReadySec.p50 ?? 0) > 0 && (s.timeToReadySec.p95 ?? 0) >= (s.timeToReadySec.p50 ?? 0),
    `time to ready p50 ${s.timeToReadySec.p50} s, p95 ${s.timeToReadySec.p95} s`,
  );
  t.same(s.views, { [first.id]: 1, [second.id]: 1 }, 'views per video: one per viewer per 30 minutes');
  const viewsShown = async () =>
    ((await (await fetch(`${platform.url}/v1/videos/${first.id}`, { headers: { authorization: `Bearer ${first.token}` } })).json()) as { views: number }).views;
  const shown = await poll(viewsShown, (n) => n === 1, { timeoutMs: 5000, everyMs: 100 });
  t.equal(shown, 1, 'and the API shows the same count (the catalog folds the views too)');

  const metrics = await fetch(`${sub.url}/metrics`);
  t.match(metrics.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await metrics.text();
  t.match(text, /^reel_ready_total 2$/m);
  t.match(text, /^reel_failed_total\{stage="ingest",code="not_a_video"\} 1$/m);
  t.match(text, new RegExp(`^reel_owner_source_bytes\\{owner="bob"\\} ${second.size}$`, 'm'));
  t.match(text, new RegExp(`^reel_video_views_total\\{video="${first.id}"\\} 1$`, 'm'));

  // graceful shutdown
  sub.proc.kill('SIGTERM');
  t.equal(await sub.exited, 0, 'SIGTERM: exits 0');

  // a new run (memory only) replays the whole stream again and counts nothing twice
  const again = await startSubscriber();
  const s2 = await statsWhen(again.url, complete);
  t.same(s2, s, 'the same numbers after a restart');
  again.proc.kill('SIGTERM');
  t.equal(await again.exited, 0);

  // with a state file: the first run replays and saves; the next one starts from the saved state
  // (its consumer resumes after what was saved, so nothing is replayed, nothing counted twice)
  const stateEnv = { ANALYTICS_STATE_FILE: join(dir, 'analytics-state.json'), ANALYTICS_DURABLE: 'analytics-saved' };
  const saving = await startSubscriber(stateEnv);
  t.same(await statsWhen(saving.url, complete), s, 'first run with a state file: the same numbers');
  saving.proc.kill('SIGTERM');
  t.equal(await saving.exited, 0);
  const resumed = await startSubscriber(stateEnv);
  t.same(await stats(resumed.url), s, 'restored from the file at once');
  const third2 = await upload('bob', clip2, 'one more');
  await waitForVideo(platform.url, third2.token, third2.id, ['ready'], 180_000);
  const s3 = await statsWhen(resumed.url, (x) => x.ready === 3);
  t.match(s3, { uploads: 4, ready: 3, failed: { total: 1 } }, 'and counts what comes next, once');
  t.equal(s3.owners.bob?.bytes, second.size * 2);
  resumed.proc.kill('SIGTERM');
  t.equal(await resumed.exited, 0);
});
