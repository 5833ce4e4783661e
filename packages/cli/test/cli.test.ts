import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeClip, poll, startTestPlatform, TEST_JWT_SECRET } from '@reel/stack';
import t from 'tap';
import { startReel, SYSTEM_NODE, USER_PATH } from './reel-process.ts';

// The reel CLI as a user runs it (see reel-process.ts), against the whole platform, through the
// public API only.

const dir = mkdtempSync(join(tmpdir(), 'reel-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const stateDir = join(dir, 'state');
const dataDir = join(dir, 'data');
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let token = '';

/** Starts `reel …`; `onStderr` sees stderr as it grows (to act mid-way). */
function start(args: string[], opts: { env?: Record<string, string | undefined>; onStderr?: (all: string) => void; command?: string[] } = {}) {
  const env: Record<string, string> = {
    PATH: USER_PATH,
    HOME: dir,
    REEL_STATE_DIR: stateDir,
    REEL_DATA_DIR: dataDir,
    REEL_URL: platform.url,
    REEL_TOKEN: token,
    npm_config_update_notifier: 'false',
  };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return startReel(args, env, opts);
}
const reel = (args: string[], opts: Parameters<typeof start>[1] = {}) => start(args, opts).done;
const percents = (stderr: string) => [...stderr.matchAll(/^upload: (\d+)%/gm)].map((m) => Number(m[1]));

t.before(async () => {
  platform = await startTestPlatform(t.teardown);
  // what `npm start` leaves in its data directory: `reel token` signs with it
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'secrets.json'), JSON.stringify({ AUTH_JWT_SECRET: TEST_JWT_SECRET }));
});

t.test('npx reel works from the repository root with the system Node', async (t) => {
  const help = await reel(['--help'], { command: ['npx', '--no-install', 'reel'] });
  t.equal(help.code, 0, 'exit code 0', { stderr: help.stderr });
  for (const c of ['upload', 'ls', 'status', 'rm', 'retry', 'token', 'open']) t.match(help.stdout, new RegExp(`^  ${c}\\b`, 'm'), c);
  const version = await reel(['--version'], { command: ['npx', '--no-install', 'reel'] });
  t.match(version.stdout, /^\d+\.\d+\.\d+/);
  const node = await new Promise<string>((resolve) => {
    const c = spawn(SYSTEM_NODE, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    c.on('close', () => resolve(out.trim()));
  });
  t.comment(`CLI launched by ${SYSTEM_NODE} (${node})`);
  const upload = await reel(['upload', '--help']);
  t.equal(upload.code, 0);
  t.match(upload.stdout, /--no-wait/);
});

t.test('token: minted from the secret npm start keeps; the API accepts it', async (t) => {
  const res = await reel(['token', '--sub', 'cli-user', '--ttl', '1h'], { env: { REEL_TOKEN: undefined } });
  t.equal(res.code, 0, 'exit code 0', { stderr: res.stderr });
  token = res.stdout.trim();
  t.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT on stdout, nothing else');
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string; exp: number; iat: number };
  t.equal(claims.sub, 'cli-user');
  t.equal(claims.exp - claims.iat, 3600);
  const ls = await reel(['ls']);
  t.equal(ls.code, 0, 'exit code 0', { stderr: ls.stderr });
  t.match(ls.stderr, /no videos/);
  const fromEnv = await reel(['token'], { env: { AUTH_JWT_SECRET: 'another-secret-that-is-at-least-32-characters', REEL_DATA_DIR: join(dir, 'nowhere') } });
  t.equal(fromEnv.code, 0);
  t.not(fromEnv.stdout.trim(), token, 'AUTH_JWT_SECRET wins over the data directory');
  const none = await reel(['token'], { env: { REEL_DATA_DIR: join(dir, 'nowhere') } });
  t.not(none.code, 0);
  t.match(none.stderr, /AUTH_JWT_SECRET is not set/);
});

t.test('clear errors: no token, a refused token, nothing listening', async (t) => {
  const missing = await reel(['ls'], { env: { REEL_TOKEN: undefined } });
  t.equal(missing.code, 2);
  t.match(missing.stderr, /REEL_TOKEN is not set/);
  const bad = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.not-a-valid-signature-at-all';
  const refused = await reel(['ls'], { env: { REEL_TOKEN: bad } });
  t.equal(refused.code, 1);
  t.match(refused.stderr, /unauthorized, HTTP 401/);
  t.notMatch(refused.stderr + refused.stdout, bad, 'the token is never printed');
  const down = await reel(['ls'], { env: { REEL_URL: 'http://127.0.0.1:9' } });
  t.equal(down.code, 1);
  t.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/);
  const usage = await reel(['status']);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /Usage: reel status/);
});

let videoId = '';
let failedId = '';
let readyId = '';

t.test('upload: progress on stderr, waits until ready, prints the video', async (t) => {
  const file = makeClip(dir, 'silent', 2);
  const res = await reel(['upload', file, '--title', 'CLI clip']);
  t.equal(res.code, 0, 'exit code 0', { stderr: res.stderr });
  t.match(res.stderr, /^upload: 100% \(/m, 'plain progress lines when stderr is not a terminal');
  const method = /uploaded \((tus|direct)\): ([0-9a-f-]{36})/.exec(res.stderr);
  t.ok(method, 'says how it uploaded', { stderr: res.stderr });
  t.equal(method?.[1], 'tus', 'the resumable path');
  videoId = method?.[2] ?? '';
  t.match(res.stdout, new RegExp(`^id\\s+${videoId}$`, 'm'));
  t.match(res.stdout, /^status\s+ready$/m);
  t.match(res.stdout, /^title\s+CLI clip$/m);
  t.match(res.stdout, /^duration\s+0:02/m);
  t.match(res.stdout, /^renditions\s+360p 640x360/m);
  const hls = /^hls\s+(\S+)$/m.exec(res.stdout)?.[1] ?? '';
  t.match(hls, new RegExp(`/v1/videos/${videoId}/hls/master\\.m3u8\\?token=`));
  const playlist = await fetch(hls);
  t.equal(playlist.status, 200);
  t.match(await playlist.text(), /#EXTM3U/);
  t.same(JSON.parse(readFileSync(join(stateDir, 'uploads.json'), 'utf8')), {}, 'a finished upload is forgotten');
});

t.test('ls and status show it', async (t) => {
  const ls = await reel(['ls']);
  t.equal(ls.code, 0, 'exit code 0', { stderr: ls.stderr });
  t.match(ls.stdout, /^ID\s+STATUS\s+TITLE\s+DURATION\s+CREATED$/m);
  t.match(ls.stdout, new RegExp(`^${videoId}\\s+ready\\s+CLI clip\\s+0:02\\s+\\d{4}-`, 'm'));
  const json = await reel(['ls', '--json', '--status', 'ready']);
  t.same(
    (JSON.parse(json.stdout) as { id: string }[]).map((v) => v.id),
    [videoId],
  );
  const none = await reel(['ls', '--q', 'no such title']);
  t.equal(none.stdout, '');
  const status = await reel(['status', videoId]);
  t.equal(status.code, 0, 'exit code 0', { stderr: status.stderr });
  t.match(status.stdout, /^status\s+ready$/m);
  const statusJson = JSON.parse((await reel(['status', videoId, '--json'])).stdout) as { status: string; playback: { hls: string } };
  t.equal(statusJson.status, 'ready');
  t.ok(statusJson.playback.hls);
  const open = await reel(['open', videoId, '--print']);
  t.equal(open.stdout, `${platform.url}/#/watch/${videoId}\n`);
});

t.test('rm deletes it; then status is a clear not-found error', async (t) => {
  const rm = await reel(['rm', videoId]);
  t.equal(rm.code, 0, 'exit code 0', { stderr: rm.stderr });
  t.equal(rm.stdout, `deleted ${videoId}\n`);
  const after = await poll(
    () => reel(['status', videoId]),
    (r) => r.code !== 0,
    { timeoutMs: 20_000, everyMs: 250 },
  );
  t.equal(after.code, 1);
  t.match(after.stderr, new RegExp(`video ${videoId}: .*\\(not_found, HTTP 404\\)`));
  const again = await reel(['rm', videoId]);
  t.equal(again.code, 1);
  t.match(again.stderr, /not_found, HTTP 404/);
});

t.test('an interrupted upload resumes where the server left off', async (t) => {
  const file = makeClip(dir, 'landscape', 9);
  // 1 MB requests at 1 MB/s: slow enough to stop it part-way
  const args = ['upload', file, '--title', 'resumed', '--chunk-size', '1'];
  let stopped = false;
  const first = start([...args, '--limit-rate', '1M'], {
    onStderr: (all) => {
      if (!stopped && percents(all).some((p) => p >= 25)) {
        stopped = true;
        first.child.kill('SIGTERM');
      }
    },
  });
  const r1 = await first.done;
  t.ok(stopped, 'stopped part-way');
  t.not(r1.code, 0, 'the interrupted run fails');
  t.match(r1.stderr, /interrupted: run the same command again to resume/);
  t.notOk(percents(r1.stderr).includes(100), `not finished: ${percents(r1.stderr).join(' ')}`);
  const saved = Object.values(JSON.parse(readFileSync(join(stateDir, 'uploads.json'), 'utf8')) as Record<string, { uploadUrl: string }>);
  t.equal(saved.length, 1, 'the upload URL is remembered');
  t.match(saved[0]?.uploadUrl, /\/v1\/tus\/[0-9a-f-]{36}$/);

  const r2 = await reel(args);
  t.equal(r2.code, 0, 'exit code 0', { stderr: r2.stderr });
  const resumed = /resuming upload at (\d+)% \(([\d.]+ [KMG]?B) of/.exec(r2.stderr);
  t.ok(resumed, `resumed: ${r2.stderr.split('\n').slice(0, 3).join(' | ')}`);
  t.ok(Number(resumed?.[1]) > 0, `the server had ${resumed?.[2]} already`);
  t.ok((percents(r2.stderr)[0] ?? 0) > 0, `progress starts above 0: ${percents(r2.stderr).join(' ')}`);
  const id = saved[0]?.uploadUrl.split('/').at(-1) ?? '';
  t.match(r2.stderr, `uploaded (tus): ${id}`, 'the same upload, not a new one');
  t.match(r2.stdout, /^status\s+ready$/m);
  t.match(r2.stdout, /^duration\s+0:09/m, 'every byte arrived');
  t.same(JSON.parse(readFileSync(join(stateDir, 'uploads.json'), 'utf8')), {});
});

t.test('--direct (presigned PUT) with --no-wait, then status --follow', async (t) => {
  const file = makeClip(dir, 'silent', 2);
  const up = await reel(['upload', file, '--direct', '--no-wait', '--public']);
  t.equal(up.code, 0, 'exit code 0', { stderr: up.stderr });
  t.match(up.stderr, /uploaded \(direct\)/);
  const id = up.stdout.trim();
  t.match(id, /^[0-9a-f-]{36}$/);
  const follow = await reel(['status', id, '--follow']);
  t.equal(follow.code, 0, 'exit code 0', { stderr: follow.stderr });
  t.match(follow.stdout, /^status\s+ready$/m);
  t.match(follow.stdout, /^visibility\s+public$/m);
  readyId = id;
});

t.test('a video that fails: non-zero exit with the error code and message', async (t) => {
  const file = join(dir, 'notes.mp4');
  writeFileSync(file, 'these are my notes, not a video\n'.repeat(100));
  const res = await reel(['upload', file]);
  t.equal(res.code, 1);
  t.match(res.stdout, /^status\s+failed$/m);
  t.match(res.stderr, /failed: unreadable: /);
  failedId = /uploaded \((?:tus|direct)\): ([0-9a-f-]{36})/.exec(res.stderr)?.[1] ?? '';
  t.match(failedId, /^[0-9a-f-]{36}$/);
});

t.test('retry: a failed video is processed again (and fails again the same way); anything else is refused with the reason', async (t) => {
  const res = await reel(['retry', failedId]);
  t.equal(res.code, 1, 'the same file fails again', { stderr: res.stderr });
  t.match(res.stderr, new RegExp(`^retrying ${failedId}$`, 'm'));
  t.match(res.stdout, /^status\s+failed$/m);
  t.match(res.stderr, /failed: unreadable: /);
  const noWait = await reel(['retry', failedId, '--no-wait']);
  t.equal(noWait.code, 0, 'exit code 0', { stderr: noWait.stderr });
  t.equal(noWait.stdout, `${failedId}\n`);
  const ready = await reel(['retry', readyId]);
  t.equal(ready.code, 1, 'a ready video is not retried');
  t.match(ready.stderr, /only a failed video can be retried; this one is ready \(conflict, HTTP 409\)/);
  const unknown = await reel(['retry', '00000000-0000-4000-8000-000000000000']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /not_found, HTTP 404/);
  const usage = await reel(['retry']);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /Usage: reel retry/);
});
