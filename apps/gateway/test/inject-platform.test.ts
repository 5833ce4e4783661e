// Health, playback playlists, event streams, the API description, the web page and the
// refusals every route shares (404, 429, 503), through app.inject on fakes.
import { keys } from '@reel/storage';
import t from 'tap';
import { build, errorOf, listenerOf, video } from './helper.ts';

const ID = '0b6c1f6e-5d1a-4c3b-9e2f-7a8b9c0d1e2f';

t.test('GET /v1/health says which services answer', async (t) => {
  const { app, world } = await build(t.teardown);
  const ok = await app.inject({ url: '/v1/health' });
  t.equal(ok.statusCode, 200);
  t.same(ok.json(), { status: 'ok', services: { gateway: 'up', ingest: 'up', transcoder: 'up', packager: 'up', catalog: 'up', webhooks: 'up' } });
  world.down.services.add('packager');
  await new Promise((r) => setTimeout(r, 600)); // one round is reused for 500 ms
  const degraded = await app.inject({ url: '/v1/health' });
  t.equal(degraded.statusCode, 200, 'a service down is still an answer');
  t.match(degraded.json(), { status: 'degraded', services: { packager: 'down', catalog: 'up' } });
});

t.test('signed playlists', async (t) => {
  const { app, world, playbackToken } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice', { status: 'ready', visibility: 'public' }));
  world.objects.set(`reel-media/${keys.master(ID)}`, '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n360p/index.m3u8\n');
  world.objects.set(`reel-media/${keys.mediaPlaylist(ID, '360p')}`, '#EXTM3U\n#EXTINF:4,\nseg-0.m4s\n');
  world.objects.set(`reel-media/${keys.storyboardVtt(ID)}`, 'WEBVTT\n\n00:00.000 --> 00:04.000\nstoryboard.jpg#xywh=0,0,160,90\n');
  const token = playbackToken(ID);

  const master = await app.inject({ url: `/v1/videos/${ID}/hls/master.m3u8?token=${token}` });
  t.equal(master.statusCode, 200);
  t.equal(master.headers['content-type'], 'application/vnd.apple.mpegurl');
  t.equal(master.headers['cache-control'], 'private, max-age=30');
  t.match(master.body, `http://gateway.test/v1/videos/${ID}/hls/360p/index.m3u8?token=${token}`, 'variants point back here with the token');
  const media = await app.inject({ url: `/v1/videos/${ID}/hls/360p/index.m3u8?token=${token}` });
  t.equal(media.statusCode, 200);
  t.match(media.body, /^https:\/\/s3\.test\/reel-media\/videos\/.+\/seg-0\.m4s\?ttl=\d+$/m, 'segments are presigned storage URLs');
  const vtt = await app.inject({ url: `/v1/videos/${ID}/storyboard.vtt?token=${token}` });
  t.equal(vtt.statusCode, 200);
  t.equal(vtt.headers['content-type'], 'text/vtt');
  t.match(vtt.body, /https:\/\/s3\.test\/.+#xywh=0,0,160,90/);

  const noToken = await app.inject({ url: `/v1/videos/${ID}/hls/master.m3u8` });
  t.equal(noToken.statusCode, 403, 'no token: 403');
  t.equal(errorOf(noToken.body).code, 'forbidden');
  t.equal(
    (await app.inject({ url: `/v1/videos/${ID}/hls/master.m3u8?token=${playbackToken(`${ID.slice(0, -1)}0`)}` })).statusCode,
    403,
    "another video's token: 403",
  );
  t.equal((await app.inject({ url: `/v1/videos/${ID}/hls/720p/index.m3u8?token=${token}` })).statusCode, 404, 'a rendition not stored: 404');
  t.equal((await app.inject({ url: `/v1/videos/${ID}/hls/UP/index.m3u8?token=${token}` })).statusCode, 400, 'a rung outside the pattern: 400');

  const publicLink = playbackToken(ID, 'public');
  t.equal((await app.inject({ url: `/v1/videos/${ID}/hls/master.m3u8?token=${publicLink}` })).statusCode, 200, 'a public link while the video is public');
  const { app: fresh, world: w2, playbackToken: pt2 } = await build(t.teardown);
  w2.records.set(ID, video(ID, 'alice', { status: 'ready', visibility: 'private' }));
  w2.objects.set(`reel-media/${keys.master(ID)}`, '#EXTM3U\n');
  const revoked = await fresh.inject({ url: `/v1/videos/${ID}/hls/master.m3u8?token=${pt2(ID, 'public')}` });
  t.equal(revoked.statusCode, 403, 'a public link once the video is private: 403');
  t.equal((await fresh.inject({ url: `/v1/videos/${ID}/hls/master.m3u8?token=${pt2(ID, 'owner')}` })).statusCode, 200, "the owner's link still works");
  w2.down.storage = true;
  t.equal((await fresh.inject({ url: `/v1/videos/${ID}/hls/master.m3u8?token=${pt2(ID, 'owner')}` })).statusCode, 503, 'storage down: 503');
});

t.test('GET /v1/videos/:id/events streams status, progress and the end', async (t) => {
  const { app, world, as } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice', { status: 'ready' }));
  const token = (await as('alice')).authorization.slice('Bearer '.length);
  const done = await app.inject({ url: `/v1/videos/${ID}/events?access_token=${token}` });
  t.equal(done.statusCode, 200, 'the token may come in the query (EventSource sends no headers)');
  t.equal(done.headers['content-type'], 'text/event-stream; charset=utf-8');
  t.equal(done.headers['cache-control'], 'no-cache, no-transform');
  t.equal(done.body, `event: status\ndata: ${JSON.stringify({ id: ID, status: 'ready', playable: false })}\n\n`, 'a finished video: its status, then the end');

  world.records.set(ID, video(ID, 'alice', { status: 'processing' }));
  const pending = app.inject({ url: `/v1/videos/${ID}/events`, headers: await as('alice') });
  const listen = await listenerOf(world, ID);
  const env = (type: string, data: object) => ({ id: 'e', type, version: 1, occurredAt: new Date().toISOString(), data: { videoId: ID, ...data } });
  listen(env('live.progress', { stage: 'transcode', percent: 40 }));
  world.records.set(ID, video(ID, 'alice', { status: 'ready' }));
  listen(env('video.ready', {}));
  const live = await pending;
  t.same(
    live.body
      .split('\n\n')
      .filter(Boolean)
      .map((e) => e.split('\n')[0]),
    ['event: status', 'event: progress', 'event: ready'],
    'status, progress as it comes, then ready and the end',
  );
  t.equal(world.listeners.get(ID)?.size ?? 0, 0, 'the listener is gone with the stream');

  t.equal((await app.inject({ url: `/v1/videos/${ID}/events` })).statusCode, 404, "someone else's private video: 404 before the stream opens");
  t.equal((await app.inject({ url: `/v1/videos/${ID}/events?access_token=a.b.c` })).statusCode, 401, 'an invalid token: 401');
});

t.test('the API description and the web page', async (t) => {
  const { app } = await build(t.teardown);
  const openapi = await app.inject({ url: '/openapi.json' });
  t.equal(openapi.statusCode, 200);
  const paths = Object.keys(openapi.json().paths);
  t.ok(paths.includes('/v1/videos/{id}') && paths.includes('/v1/uploads'), 'describes the API');
  t.notOk(
    paths.some((p) => p === '/' || p.startsWith('/ui') || p.startsWith('/v1/tus')),
    'not the page or tus',
  );
  const asyncapi = await app.inject({ url: '/asyncapi.json' });
  t.equal(asyncapi.statusCode, 200);
  const events = asyncapi.json();
  t.match(events.asyncapi, /^3\./, 'the event contract, as AsyncAPI 3');
  t.ok(
    Object.values(events.channels).some((c) => (c as { address?: string }).address === 'video.ready'),
    'every subject a channel',
  );

  const home = await app.inject({ url: '/' });
  t.equal(home.statusCode, 200);
  t.match(home.headers['content-type'], /^text\/html/);
  t.equal(home.headers['cache-control'], 'no-cache');
  t.match(home.headers['content-security-policy'], /script-src 'self'/);
  t.equal(home.headers['x-content-type-options'], 'nosniff');
  t.equal((await app.inject({ url: '/', headers: { 'if-none-match': String(home.headers.etag) } })).statusCode, 304, 'a matching ETag: 304');
  const revalidate = { 'if-none-match': String(home.headers.etag), 'cache-control': 'no-cache', pragma: 'no-cache' };
  t.equal((await app.inject({ url: '/', headers: revalidate })).statusCode, 304, 'also with the no-cache fetch() adds to conditional requests');
  const script = await app.inject({ url: '/ui/js/main.js' });
  t.equal(script.statusCode, 200);
  t.match(script.headers['content-type'], /^text\/javascript/);
  t.equal(script.headers['cache-control'], 'no-cache');
  const lib = await app.inject({ url: '/ui/vendor/hls.min.js' });
  t.equal(lib.statusCode, 200);
  t.match(lib.headers['content-type'], /^text\/javascript/);
  t.match(lib.headers['cache-control'], /max-age=\d+/, 'a library is cacheable');
  for (const url of ['/ui/vendor/other.js', '/ui/..%2f..%2fpackage.json', '/ui/.hidden', '/ui/js/../../src/app.ts', '/ui/nope.css']) {
    const res = await app.inject({ url });
    t.equal(res.statusCode, 404, `${url}: 404`);
    t.equal(errorOf(res.body).code, 'not_found');
  }
  t.equal((await app.inject({ url: '/favicon.ico' })).headers.location, '/ui/icon.svg');
});

t.test('refusals every route shares', async (t) => {
  const { app, world, as } = await build(t.teardown, { RATE_LIMIT_READS_PER_MIN: '3' });
  const unknown = await app.inject({ url: '/v1/nothing' });
  t.equal(unknown.statusCode, 404);
  t.same(unknown.json(), { error: { code: 'not_found', message: 'no route GET /v1/nothing' } });

  world.records.set(ID, video(ID, 'alice'));
  const auth = await as('alice');
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await app.inject({ url: `/v1/videos/${ID}`, headers: auth })).statusCode);
  t.same(statuses, [200, 200, 200, 429], 'reads past the limit: 429');
  const limited = await app.inject({ url: '/v1/videos', headers: auth });
  t.equal(errorOf(limited.body).code, 'rate_limited', 'one budget across the read routes');
  t.ok(Number(limited.headers['retry-after']) > 0);
  t.equal((await app.inject({ url: `/v1/videos/${ID}`, headers: await as('bob') })).statusCode, 404, 'another caller has a budget of their own');

  world.down.catalog = true;
  const down = await app.inject({ url: '/v1/videos', headers: await as('carol') });
  t.equal(down.statusCode, 503);
  t.same(down.json(), { error: { code: 'unavailable', message: 'a service is unavailable; try again shortly' } }, 'no details of the outage');
});
