import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeClip, ROOT, startTestPlatform, until, uploadFile, waitForVideo } from '@reel/stack';
import t from 'tap';

// Webhooks as an application uses them: register a receiver over HTTP, upload a video, and check
// what arrives with the verification code the README gives.
const dir = mkdtempSync(join(tmpdir(), 'reel-webhooks-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** The README's recipe, taken from the README itself (so the doc and the test cannot drift). */
async function readmeVerifier(): Promise<(secret: string, rawBody: string, header: string) => boolean> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Webhooks'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error('no ts code block in the README webhooks section');
  // plain JavaScript in an .mjs: no module-type guessing for a file outside any package
  const file = join(dir, 'verify.mjs');
  writeFileSync(file, stripTypeScriptTypes(code));
  const mod = (await import(pathToFileURL(file).href)) as { verifyReelSignature?: unknown };
  const verify = mod.verifyReelSignature;
  if (typeof verify !== 'function') throw new Error(`the README's recipe exports no verifyReelSignature function (got ${Object.keys(mod).join(', ')})`);
  return verify as (secret: string, rawBody: string, header: string) => boolean;
}

interface Received {
  body: string;
  headers: IncomingHttpHeaders;
}

/** A receiver on loopback that answers `answer(n)` to its n-th request (1-based) and keeps every request. */
async function receiver(answer: (n: number) => number = () => 200) {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.statusCode = answer(got.length);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, got };
}

const WAIT = { timeoutMs: 60_000, everyMs: 100 };

let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let alice = '';
let bob = '';
const api = (path: string, token: string, init: { method?: string; json?: unknown } = {}) =>
  fetch(`${platform.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
type Created = { id: string; url: string; events: string[]; secret: string; createdAt: string };
type Delivery = { id: string; eventId: string; type: string; status: string; attempts: number; responseStatus: number | null; lastAttemptAt: string | null };

/** POST /v1/webhooks, waiting for the webhooks service to answer (the health page does not wait for it). */
const register = (token: string, body: unknown) =>
  until(
    'the webhooks service',
    async () => {
      const res = await api('/v1/webhooks', token, { method: 'POST', json: body });
      if (res.status === 503) return undefined;
      return res;
    },
    WAIT,
  );

let verify: Awaited<ReturnType<typeof readmeVerifier>>;
let all: Awaited<ReturnType<typeof receiver>>;
let flaky: Awaited<ReturnType<typeof receiver>>;
let bobs: Awaited<ReturnType<typeof receiver>>;
let hookAll: Created;
let hookFlaky: Created;
let hookBob: Created;

t.before(async () => {
  platform = await startTestPlatform(t.teardown, {
    env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_BACKOFF_MS: '300', WEBHOOK_POLL_MS: '100', RATE_LIMIT_WRITES_PER_MIN: '100' },
  });
  alice = await platform.token('alice');
  bob = await platform.token('bob');
  verify = await readmeVerifier();
  all = await receiver();
  flaky = await receiver((n) => (n <= 3 ? 500 : 200));
  bobs = await receiver();
});

t.test('registering', async (t) => {
  const resAll = await register(alice, { url: all.url });
  t.equal(resAll.status, 201, 'a webhook is created');
  hookAll = (await resAll.json()) as Created;
  t.same(hookAll.events, ['video.uploaded', 'video.playable', 'video.ready', 'video.failed', 'video.updated', 'video.deleted'], 'every event by default');
  t.match(hookAll.secret, /^whsec_[0-9a-f]{64}$/, 'the secret is in the creation answer');
  const resFlaky = await register(alice, { url: flaky.url, events: ['video.uploaded'] });
  t.equal(resFlaky.status, 201);
  hookFlaky = (await resFlaky.json()) as Created;
  t.same(hookFlaky.events, ['video.uploaded'], 'only the events asked for');
  hookBob = (await (await register(bob, { url: bobs.url })).json()) as Created;
});

t.test('an upload is announced to the owner, signed', async (t) => {
  const up = await uploadFile(platform.url, alice, makeClip(dir, 'silent', 2), { title: 'hooked' });
  t.equal(up.status, 202);
  const { id } = (await up.json()) as { id: string };
  await waitForVideo(platform.url, alice, id, ['ready']);
  const types = ['video.uploaded', 'video.playable', 'video.ready'];
  const mine = () => all.got.filter((r) => (JSON.parse(r.body) as { data: { videoId: string } }).data.videoId === id);
  await until(
    'uploaded, playable and ready at the receiver',
    () => (types.every((ty) => mine().some((r) => r.headers['reel-event-type'] === ty)) ? true : undefined),
    WAIT,
  );
  for (const type of types) {
    const r = mine().find((x) => x.headers['reel-event-type'] === type);
    if (!r) throw new Error(`no ${type}`);
    const envelope = JSON.parse(r.body) as { id: string; type: string };
    t.equal(envelope.type, type, `${type}: the body is the event envelope`);
    t.equal(r.headers['reel-event-id'], envelope.id, `${type}: Reel-Event-Id is the envelope's id`);
    t.equal(r.headers['content-type'], 'application/json');
    t.ok(verify(hookAll.secret, r.body, String(r.headers['reel-signature'])), `${type}: the signature verifies by the README's recipe`);
    t.notOk(verify(hookFlaky.secret, r.body, String(r.headers['reel-signature'])), `${type}: not with another secret`);
    t.notOk(verify(hookAll.secret, `${r.body} `, String(r.headers['reel-signature'])), `${type}: not for another body`);
  }
  const deliveries = (await (await api(`/v1/webhooks/${hookAll.id}/deliveries`, alice)).json()) as { items: Delivery[] };
  const ready = deliveries.items.find((d) => d.type === 'video.ready');
  t.match(ready, { status: 'delivered', attempts: 1, responseStatus: 200 }, 'the delivery is listed as delivered');

  // the receiver that fails three times, then answers 200
  const flakyDeliveries = await until(
    'the flaky delivery to be delivered',
    async () => {
      const body = (await (await api(`/v1/webhooks/${hookFlaky.id}/deliveries`, alice)).json()) as { items: Delivery[] };
      return body.items.find((d) => d.status === 'delivered') ? body.items : undefined;
    },
    WAIT,
  );
  t.equal(flakyDeliveries.length, 1, 'only the subscribed event was queued');
  t.match(flakyDeliveries[0], { type: 'video.uploaded', status: 'delivered', attempts: 4, responseStatus: 200 }, 'delivered on the 4th attempt');
  t.equal(flaky.got.length, 4, 'the receiver saw four requests');
  t.equal(new Set(flaky.got.map((r) => r.body)).size, 1, 'every attempt sent the same bytes');

  t.equal(bobs.got.length, 0, "bob's webhook hears nothing of alice's video");
});

t.test("another user's webhooks are invisible", async (t) => {
  const list = (await (await api('/v1/webhooks', bob)).json()) as { items: { id: string }[] };
  t.same(
    list.items.map((i) => i.id),
    [hookBob.id],
    'bob lists only his own',
  );
  t.equal((await api(`/v1/webhooks/${hookAll.id}/deliveries`, bob)).status, 404, "alice's deliveries are a 404 to bob");
  t.equal((await api(`/v1/webhooks/${hookAll.id}`, bob, { method: 'DELETE' })).status, 404, "bob cannot delete alice's");
  t.equal((await api('/v1/webhooks/not-an-id/deliveries', bob)).status, 404);
  const aliceList = (await (await api('/v1/webhooks', alice)).json()) as { items: { id: string; active: boolean }[] };
  t.same(aliceList.items.map((i) => i.id).sort(), [hookAll.id, hookFlaky.id].sort(), 'alice still has both');
  t.notOk('secret' in (aliceList.items[0] ?? {}), 'the list never shows the secret');
  t.equal((await api(`/v1/webhooks/${hookFlaky.id}`, alice, { method: 'DELETE' })).status, 204, 'the owner deletes it');
  t.equal((await api(`/v1/webhooks/${hookFlaky.id}/deliveries`, alice)).status, 404, 'and it is gone');
});

t.test('bad input', async (t) => {
  t.equal((await api('/v1/webhooks', alice, { method: 'POST', json: { url: 'ftp://127.0.0.1/x' } })).status, 400, 'only http and https');
  t.equal((await api('/v1/webhooks', alice, { method: 'POST', json: { url: 'http://127.0.0.1/x', events: ['video.progress'] } })).status, 400, 'unknown event');
  t.equal((await fetch(`${platform.url}/v1/webhooks`)).status, 401, 'a token is needed');
});
