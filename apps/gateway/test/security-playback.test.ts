// Issue 14 item 11, replayed: a viewer keeps the playback link of a public video, the owner makes
// it private, and the viewer tries the link again. It must stop working within a minute, while
// the owner's own links keep working.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeClip, startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import { until } from '@reel/testing';
import t from 'tap';

type Video = { status: string; visibility: string; playback?: { hls: string; storyboard?: string } };

t.test('14.11: a link issued while public stops working within a minute of going private', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reel-sec-playback-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const platform = await startTestPlatform(t.teardown);
  const alice = await platform.token('alice');
  const get = async (id: string, token?: string) =>
    (await (await fetch(`${platform.url}/v1/videos/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })).json()) as Video;

  const res = await uploadFile(platform.url, alice, makeClip(dir, 'silent', 2), { visibility: 'public', title: 'public for now' });
  const { id } = (await res.json()) as { id: string };
  const ready = await waitForVideo(platform.url, alice, id);
  t.equal(ready.status, 'ready');

  // the attacker: anyone, while the video is public
  const seen = await get(id);
  const master = seen.playback?.hls ?? '';
  const storyboard = seen.playback?.storyboard ?? '';
  t.equal((await fetch(master)).status, 200, 'the public link plays');
  const mediaUrl = (await (await fetch(master)).text()).split('\n').find((l) => l.startsWith('http')) ?? '';
  t.equal((await fetch(mediaUrl)).status, 200, 'and its media playlist');
  t.equal((await fetch(storyboard)).status, 200, 'and its storyboard');
  const token = new URL(master).searchParams.get('token') ?? '';
  t.match(token, /^\d+\.p\./, 'issued with the public scope');
  const relabelled = master.replace(`token=${token}`, `token=${token.replace('.p.', '.o.')}`);
  t.equal((await fetch(relabelled)).status, 403, 'the scope is signed: relabelling it as an owner link breaks the link');

  const patched = await fetch(`${platform.url}/v1/videos/${id}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    body: JSON.stringify({ visibility: 'private' }),
  });
  t.equal(patched.status, 200);
  const madePrivate = Date.now();
  // waited for up to 90 s, so that a late revocation is measured and reported, not only failed
  const status = await until(
    'the old master link to stop working',
    async () => {
      const answer = (await fetch(master)).status;
      return answer !== 200 && answer;
    },
    { timeoutMs: 90_000, everyMs: 500, explain: () => 'it still answers 200' },
  );
  const revokedAfterMs = Date.now() - madePrivate;
  t.equal(status, 403, 'the old master link is refused');
  t.ok(revokedAfterMs <= 60_000, `revoked ${(revokedAfterMs / 1000).toFixed(1)} s after the video was made private`);
  t.comment(`link revoked ${(revokedAfterMs / 1000).toFixed(1)} s after PATCH visibility=private`);
  const refused = await fetch(master);
  t.match(((await refused.json()) as { error: { message: string } }).error.message, /no longer public/);
  t.equal((await fetch(mediaUrl)).status, 403, 'its media playlist too');
  t.equal((await fetch(storyboard)).status, 403, 'and its storyboard');
  t.equal((await get(id)).playback, undefined, 'anonymous viewers get no new link');

  // the owner is not locked out: a link issued now (private) works, and keeps working
  const own = await get(id, alice);
  t.equal(own.visibility, 'private');
  const ownLink = own.playback?.hls ?? '';
  t.match(new URL(ownLink).searchParams.get('token') ?? '', /^\d+\.o\./, 'an owner link');
  t.equal((await fetch(ownLink)).status, 200, "the owner's link plays");
});
