// The view beacon (issue 12 item 3) through app.inject on fakes: who may send it, one counted view
// per viewer per video per 30 minutes, the video.viewed fact, and views on the video.
import t from 'tap';
import { memoryViewCounter, VIEW_WINDOW_MS } from '../src/views.ts';
import { build, errorOf, video } from './helper.ts';

const ID = '0b6c1f6e-5d1a-4c3b-9e2f-7a8b9c0d1e2f';
const PUBLIC = '1c7d2a7f-6e2b-4d4c-8f3a-8b9c0d1e2f30';
const MASTER = `videos/${ID}/hls/master.m3u8`;

t.test('POST /v1/videos/:id/views counts one view per viewer per video, for whoever may watch', async (t) => {
  const { app, world, as } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice', { status: 'ready', master: MASTER, playable: true, views: 7 }));
  world.records.set(PUBLIC, video(PUBLIC, 'alice', { status: 'processing', master: MASTER, playable: true, visibility: 'public' }));
  const beacon = async (id: string, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: `/v1/videos/${id}/views`, headers });

  const first = await beacon(ID, await as('alice'));
  t.equal(first.statusCode, 202);
  t.same(first.json(), { counted: true }, 'the owner’s first view counts');
  t.same((await beacon(ID, await as('alice'))).json(), { counted: false }, 'again within 30 minutes: not counted');
  t.equal((await beacon(ID, await as('bob'))).statusCode, 404, 'someone else’s private video: not found');
  t.equal((await beacon(ID)).statusCode, 404, 'nor for a visitor');

  t.same((await beacon(PUBLIC, { 'user-agent': 'a' })).json(), { counted: true }, 'a visitor may view a public video while it is playable');
  t.same((await beacon(PUBLIC, { 'user-agent': 'a' })).json(), { counted: false }, 'the same visitor (address and agent) once');
  t.same((await beacon(PUBLIC, { 'user-agent': 'b' })).json(), { counted: true }, 'another visitor counts');
  t.same((await beacon(PUBLIC, await as('bob'))).json(), { counted: true }, 'a signed-in viewer is their user, not their address');

  const views = world.published.filter((p) => p.subject === 'video.viewed');
  t.equal(views.length, 4, 'one video.viewed per counted view');
  t.match(views[0], { data: { videoId: ID, ownerId: 'alice', viewer: /^[0-9a-f]{32}$/ }, id: new RegExp(`^${ID}\\.viewed\\.[0-9a-f]{32}\\.\\d+$`) });
  t.notMatch(JSON.stringify(views), /bob|alice"[^,]*viewer/, 'no identity on the bus: the viewer is a hash');
  t.equal(new Set(views.map((v) => (v.data as { viewer: string }).viewer)).size, 4, 'four different viewers');

  world.records.set(ID, video(ID, 'alice', { status: 'processing' }));
  const early = await beacon(ID, await as('alice'));
  t.equal(early.statusCode, 409, 'a video that does not play yet has no views');
  t.equal(errorOf(early.body).code, 'not_playable');
  t.equal((await beacon('nope')).statusCode, 404, 'no such video');

  world.down.publisher = true;
  t.equal((await beacon(PUBLIC, { 'user-agent': 'c' })).statusCode, 503, 'NATS down: 503');
});

t.test('the video shows its views', async (t) => {
  const { app, world, as } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice', { status: 'ready', master: MASTER, playable: true, views: 7 }));
  world.records.set(PUBLIC, video(PUBLIC, 'alice', { visibility: 'public' }));
  t.equal((await app.inject({ url: `/v1/videos/${ID}`, headers: await as('alice') })).json().views, 7);
  t.equal((await app.inject({ url: `/v1/videos/${PUBLIC}` })).json().views, 0, 'none yet is 0');
});

t.test('the memory counter: once per window, again after it, bounded', async (t) => {
  const c = memoryViewCounter(3);
  const t0 = 1_000_000;
  t.ok(await c.count('v', 'a', t0));
  t.notOk(await c.count('v', 'a', t0 + VIEW_WINDOW_MS - 1));
  t.ok(await c.count('v', 'a', t0 + VIEW_WINDOW_MS), 'a new window counts again');
  t.ok(await c.count('w', 'a', t0 + VIEW_WINDOW_MS), 'another video is another count');
  for (const v of ['x', 'y', 'z']) await c.count(v, 'a', t0 + VIEW_WINDOW_MS);
  t.ok(await c.count('v', 'a', t0 + VIEW_WINDOW_MS + 1), 'past its bound the oldest is forgotten (and counts again)');
});
