// The video routes through app.inject on fakes: every success and error answer, no server.
import t from 'tap';
import { build, errorOf, video } from './helper.ts';

const ID = '0b6c1f6e-5d1a-4c3b-9e2f-7a8b9c0d1e2f';
const OTHER = '1c7d2a7f-6e2b-4d4c-8f3a-8b9c0d1e2f30';
const SOURCE = { bucket: 'reel-sources', key: `sources/${ID}/source`, size: 3 };

t.test('GET /v1/videos/:id', async (t) => {
  const { app, world, as } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice', { title: 'mine' }));
  world.records.set(OTHER, video(OTHER, 'bob', { visibility: 'public', status: 'ready' }));

  const own = await app.inject({ url: `/v1/videos/${ID}`, headers: await as('alice') });
  t.equal(own.statusCode, 200, 'the owner sees their private video');
  t.match(own.json(), { id: ID, title: 'mine', status: 'processing', visibility: 'private' });
  t.equal((await app.inject({ url: `/v1/videos/${OTHER}` })).statusCode, 200, 'anyone sees a public video');

  const hidden = await app.inject({ url: `/v1/videos/${ID}`, headers: await as('bob') });
  t.equal(hidden.statusCode, 404, "someone else's private video does not exist");
  t.equal(errorOf(hidden.body).code, 'not_found');
  t.equal((await app.inject({ url: `/v1/videos/${ID}` })).statusCode, 404, 'nor for an anonymous caller');

  const bad = await app.inject({ url: `/v1/videos/${ID}`, headers: { authorization: 'Bearer a.b.c' } });
  t.equal(bad.statusCode, 401, 'an invalid token is refused, not taken as anonymous');
  t.equal(errorOf(bad.body).code, 'unauthorized');
  t.equal((await app.inject({ url: `/v1/videos/${ID}`, headers: { authorization: 'Basic x' } })).statusCode, 401, 'so is another scheme');
  t.equal((await app.inject({ url: `/v1/videos/${'x'.repeat(65)}` })).statusCode, 400, 'an overlong id is a bad request');

  world.down.catalog = true;
  const down = await app.inject({ url: `/v1/videos/${ID}`, headers: await as('alice') });
  t.equal(down.statusCode, 503, 'the catalog not answering is 503');
  t.equal(down.headers['retry-after'], '5');
});

t.test('a ready video carries signed playback links', async (t) => {
  const { app, world, as } = await build(t.teardown);
  world.records.set(
    ID,
    video(ID, 'alice', {
      status: 'ready',
      master: `media/${ID}/hls/master.m3u8`,
      images: { poster: 'p.jpg', thumbnails: ['t1.jpg'], storyboard: 's.jpg', storyboardVtt: 's.vtt' },
    }),
  );
  const body = (await app.inject({ url: `/v1/videos/${ID}`, headers: await as('alice') })).json();
  t.match(body.playback.hls, new RegExp(`^http://gateway.test/v1/videos/${ID}/hls/master.m3u8\\?token=\\d+\\.o\\.`));
  t.match(body.playback.poster, /^https:\/\/s3\.test\/reel-media\/p\.jpg/);
  t.equal(body.playback.thumbnails.length, 1);
  t.ok(Date.parse(body.playback.expiresAt) > Date.now(), 'with an expiry ahead');
});

t.test('GET /v1/videos lists the caller’s own videos', async (t) => {
  const { app, world, as } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice', { status: 'ready', createdAt: '2026-01-02T00:00:00.000Z' }));
  world.records.set(OTHER, video(OTHER, 'bob'));
  const list = await app.inject({ url: '/v1/videos?limit=5', headers: await as('alice') });
  t.equal(list.statusCode, 200);
  t.same(
    list.json().items.map((v: { id: string }) => v.id),
    [ID],
  );
  t.equal(list.json().nextCursor, null);
  t.same((await app.inject({ url: '/v1/videos?status=processing', headers: await as('alice') })).json().items, [], 'filtered by status');
  t.equal((await app.inject({ url: '/v1/videos' })).statusCode, 401, 'a list needs a token');
  t.equal((await app.inject({ url: '/v1/videos?limit=0', headers: await as('alice') })).statusCode, 400, 'limit below 1');
  t.equal((await app.inject({ url: '/v1/videos?status=gone', headers: await as('alice') })).statusCode, 400, 'an unknown status');
});

t.test('PATCH /v1/videos/:id', async (t) => {
  const { app, world, as } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice'));
  world.records.set(OTHER, video(OTHER, 'bob', { visibility: 'public' }));
  const ok = await app.inject({ method: 'PATCH', url: `/v1/videos/${ID}`, headers: await as('alice'), payload: { title: 'new', visibility: 'public' } });
  t.equal(ok.statusCode, 200);
  t.match(ok.json(), { id: ID, title: 'new', visibility: 'public' }, 'answers with what the catalog will hold');
  t.same(world.published, [{ subject: 'video.updated', data: { videoId: ID, ownerId: 'alice', title: 'new', visibility: 'public' }, id: undefined }]);

  const cases: [string, { url?: string; payload: unknown; as?: string }, number][] = [
    ['an empty patch', { payload: {} }, 400],
    ['an unknown field', { payload: { owner: 'me' } }, 400],
    ['an empty title', { payload: { title: '' } }, 400],
    ['a bad visibility', { payload: { visibility: 'friends' } }, 400],
    ["someone else's public video", { url: `/v1/videos/${OTHER}`, payload: { title: 'x' } }, 403],
    ['a video that is not there', { url: '/v1/videos/2d8e3b80-7f3c-4e5d-9a4b-9c0d1e2f3041', payload: { title: 'x' } }, 404],
  ];
  for (const [what, c, status] of cases) {
    const res = await app.inject({ method: 'PATCH', url: c.url ?? `/v1/videos/${ID}`, headers: await as('alice'), payload: c.payload as object });
    t.equal(res.statusCode, status, `${what}: ${status}`);
  }
  t.equal((await app.inject({ method: 'PATCH', url: `/v1/videos/${ID}`, payload: { title: 'x' } })).statusCode, 401, 'no token: 401');
  t.equal(world.published.length, 1, 'nothing refused was published');
});

t.test('DELETE /v1/videos/:id', async (t) => {
  const { app, world, as } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice'));
  world.records.set(OTHER, video(OTHER, 'bob', { visibility: 'public' }));
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/videos/${OTHER}`, headers: await as('alice') })).statusCode, 403, "not someone else's");
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/videos/${ID}` })).statusCode, 401, 'not without a token');
  const res = await app.inject({ method: 'DELETE', url: `/v1/videos/${ID}`, headers: await as('alice') });
  t.equal(res.statusCode, 204);
  t.equal(res.body, '');
  t.same(world.published, [{ subject: 'video.deleted', data: { videoId: ID, ownerId: 'alice' }, id: `${ID}.deleted` }]);

  world.down.publisher = true;
  const down = await app.inject({ method: 'DELETE', url: `/v1/videos/${ID}`, headers: await as('alice') });
  t.equal(down.statusCode, 503, 'NATS down: 503, nothing lost silently');
  t.equal(errorOf(down.body).code, 'unavailable');
});

t.test('POST /v1/videos/:id/retry', async (t) => {
  const { app, world, as } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice', { status: 'failed', sourceObject: SOURCE, attempt: 2 }));
  world.objects.set(`${SOURCE.bucket}/${SOURCE.key}`, 'abc');
  const res = await app.inject({ method: 'POST', url: `/v1/videos/${ID}/retry`, headers: await as('alice') });
  t.equal(res.statusCode, 202);
  t.same(res.json(), { id: ID, status: 'processing' });
  t.equal(res.headers.location, `/v1/videos/${ID}`);
  t.match(world.published, [{ subject: 'video.uploaded', id: `${ID}.uploaded.3`, data: { videoId: ID, attempt: 3, source: SOURCE } }], 'a new attempt');

  world.records.set(OTHER, video(OTHER, 'alice', { status: 'ready' }));
  const ready = await app.inject({ method: 'POST', url: `/v1/videos/${OTHER}/retry`, headers: await as('alice') });
  t.equal(ready.statusCode, 409, 'only a failed video');
  t.equal(errorOf(ready.body).code, 'conflict');
  world.objects.clear();
  const gone = await app.inject({ method: 'POST', url: `/v1/videos/${ID}/retry`, headers: await as('alice') });
  t.equal(gone.statusCode, 409, 'not once its source is gone');
  t.equal(errorOf(gone.body).code, 'source_gone');
  t.equal((await app.inject({ method: 'POST', url: `/v1/videos/${ID}/retry`, headers: await as('bob') })).statusCode, 404, 'not found for others');
  world.down.storage = true;
  t.equal((await app.inject({ method: 'POST', url: `/v1/videos/${ID}/retry`, headers: await as('alice') })).statusCode, 503, 'storage down: 503');
});
