// Playable while processing (issue 10 item 5), through app.inject on fakes: the API shows the
// playback link of an EVENT playlist before the video is ready, the growing playlist is never
// cached, and SSE says `playable` once.
import { until } from '@reel/testing';
import t from 'tap';
import { build, listenerOf, video } from './helper.ts';

const ID = '0b6c1f6e-5d1a-4c3b-9e2f-7a8b9c0d1e2f';
const MASTER = `videos/${ID}/hls/master.m3u8`;
const env = (type: string, data: object = {}) => ({ id: `e-${type}`, type, version: 1, occurredAt: new Date().toISOString(), data: { videoId: ID, ...data } });
const eventsOf = (body: string) =>
  body
    .split('\n\n')
    .filter((e) => e.startsWith('event: '))
    .map((e) => ({ type: e.split('\n')[0]?.slice('event: '.length), data: JSON.parse(e.split('\n')[1]?.slice('data: '.length) ?? 'null') }));

t.test('a processing video that is playable carries its playback link, with the same rules as a ready one', async (t) => {
  const { app, world, as } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice', { status: 'processing', progress: { stage: 'transcode', percent: 30 }, master: MASTER, playable: true }));
  const own = (await app.inject({ url: `/v1/videos/${ID}`, headers: await as('alice') })).json();
  t.match(own, { status: 'processing', playable: true, progress: { stage: 'transcode' } });
  t.match(own.playback.hls, new RegExp(`^http://gateway.test/v1/videos/${ID}/hls/master.m3u8\\?token=\\d+\\.o\\.`), 'an owner link for a private video');
  t.same(own.playback.thumbnails, [], 'no images yet');
  t.equal((await app.inject({ url: `/v1/videos/${ID}`, headers: await as('bob') })).statusCode, 404, 'someone else’s private video stays hidden');

  world.records.set(ID, video(ID, 'alice', { status: 'processing', master: MASTER, playable: true, visibility: 'public' }));
  const anon = (await app.inject({ url: `/v1/videos/${ID}` })).json();
  t.match(anon.playback.hls, /token=\d+\.p\./, 'a public link for anyone');

  world.records.set(ID, video(ID, 'alice', { status: 'processing' }));
  const not = (await app.inject({ url: `/v1/videos/${ID}`, headers: await as('alice') })).json();
  t.equal(not.playable, false, 'not playable before the first chunks');
  t.notOk(not.playback);
});

t.test('a growing (EVENT) playlist is served uncached; an ended one as before', async (t) => {
  const { app, world, playbackToken } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice', { status: 'processing', master: MASTER, playable: true }));
  world.objects.set(
    `reel-media/${MASTER}`,
    '#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="audio",DEFAULT=YES,URI="audio/index.m3u8"\n#EXT-X-STREAM-INF:BANDWIDTH=1000,AUDIO="aud"\n360p/index.m3u8\n',
  );
  const growing = '#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-START:TIME-OFFSET=0\n#EXTINF:4.0,\nseg-0000-00000.ts\n';
  world.objects.set(`reel-media/videos/${ID}/hls/360p/index.m3u8`, growing);
  const token = playbackToken(ID);
  const master = await app.inject({ url: `/v1/videos/${ID}/hls/master.m3u8?token=${token}` });
  t.equal(master.statusCode, 200);
  t.match(master.body, `URI="http://gateway.test/v1/videos/${ID}/hls/audio/index.m3u8?token=${token}"`, 'the audio group is a signed link too');
  t.match(master.body, `\nhttp://gateway.test/v1/videos/${ID}/hls/360p/index.m3u8?token=${token}\n`);

  const media = await app.inject({ url: `/v1/videos/${ID}/hls/360p/index.m3u8?token=${token}` });
  t.equal(media.statusCode, 200);
  t.equal(media.headers['cache-control'], 'no-cache', 'the player reloads it: never from a cache');
  t.match(media.body, /#EXT-X-START:TIME-OFFSET=0\n#EXTINF:4.0,\nhttps:\/\/s3\.test\/reel-media\/videos\/.*\/seg-0000-00000\.ts/);

  world.objects.set(`reel-media/videos/${ID}/hls/360p/index.m3u8`, `${growing.replace('EVENT', 'VOD')}#EXT-X-ENDLIST\n`);
  const ended = await app.inject({ url: `/v1/videos/${ID}/hls/360p/index.m3u8?token=${token}` });
  t.equal(ended.headers['cache-control'], 'private, max-age=30', 'a finished playlist may be cached briefly');
});

t.test('SSE: `playable` as soon as the catalog shows it, once, then `ready`', async (t) => {
  const { app, world, as } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice', { status: 'processing' }));
  const pending = app.inject({ url: `/v1/videos/${ID}/events`, headers: await as('alice') });
  const listen = await listenerOf(world, ID);
  /** Returns once the stream has read the catalog again (it looks 150 ms after an event, and on while it waits). */
  const askedAgain = async (what: string) => {
    const before = world.queries.length;
    await until(what, () => world.queries.slice(before).includes(`get ${ID}`), { everyMs: 5 });
  };
  listen(env('live.progress', { stage: 'transcode', percent: 20 }));
  // the catalog projects video.playable a while after it is published: the stream keeps asking
  listen(env('video.playable', { master: { bucket: 'reel-media', key: MASTER } }));
  await askedAgain('a look at the catalog that does not show it playable yet');
  world.records.set(ID, video(ID, 'alice', { status: 'processing', master: MASTER, playable: true }));
  await askedAgain('a look at the catalog that shows it playable');
  listen(env('video.playable', { master: { bucket: 'reel-media', key: MASTER } }));
  listen(env('video.transcoded'));
  await askedAgain('a look after the repeated video.playable');
  world.records.set(ID, video(ID, 'alice', { status: 'ready', master: MASTER, playable: true }));
  listen(env('video.ready'));
  const events = eventsOf((await pending).body);
  t.same(
    events.map((e) => e.type),
    ['status', 'progress', 'playable', 'ready'],
    'status, progress, playable once (the catalog was late), ready',
  );
  t.match(events[0]?.data, { status: 'processing', playable: false });
  t.match(events[2]?.data, { id: ID, status: 'processing', playable: true });
});

t.test('SSE: a video already playable says so at once', async (t) => {
  const { app, world, as } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice', { status: 'processing', master: MASTER, playable: true }));
  const pending = app.inject({ url: `/v1/videos/${ID}/events`, headers: await as('alice') });
  const listen = await listenerOf(world, ID);
  world.records.set(ID, video(ID, 'alice', { status: 'failed', error: { code: 'encode_failed', stage: 'transcode', message: 'chunk 3' } }));
  listen(env('video.failed', { stage: 'transcode', code: 'encode_failed', message: 'chunk 3' }));
  t.same(
    eventsOf((await pending).body).map((e) => e.type),
    ['status', 'playable', 'failed'],
  );
});
