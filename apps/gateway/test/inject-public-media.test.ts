// Public delivery (issue 12 item 6) through app.inject on fakes: with MEDIA_PUBLIC_URL, a public
// video's playlists and images are stable unsigned URLs under it; a private one stays signed; a
// change of visibility applies to the next playback at once.
import t from 'tap';
import { build, video } from './helper.ts';

const ID = '0b6c1f6e-5d1a-4c3b-9e2f-7a8b9c0d1e2f';
const images = {
  poster: `videos/${ID}/images/poster.jpg`,
  thumbnails: [`videos/${ID}/images/thumb-000.jpg`],
  storyboard: `videos/${ID}/images/storyboard.jpg`,
  storyboardVtt: `videos/${ID}/images/storyboard.vtt`,
};
const ready = (visibility: 'public' | 'private') =>
  video(ID, 'alice', { status: 'ready', playable: true, visibility, master: `videos/${ID}/hls/master.m3u8`, images });

t.test('with MEDIA_PUBLIC_URL: public videos get stable unsigned links, private ones signed', async (t) => {
  const { app, world, as } = await build(t.teardown, { MEDIA_PUBLIC_URL: 'https://cdn.example.com/media/' });
  world.records.set(ID, ready('public'));
  const first = (await app.inject({ url: `/v1/videos/${ID}` })).json();
  t.same(first.playback, {
    hls: `https://cdn.example.com/media/videos/${ID}/hls/master.m3u8`,
    poster: `https://cdn.example.com/media/videos/${ID}/images/poster.jpg`,
    thumbnails: [`https://cdn.example.com/media/videos/${ID}/images/thumb-000.jpg`],
    storyboard: `https://cdn.example.com/media/videos/${ID}/images/storyboard.vtt`,
  });
  const again = (await app.inject({ url: `/v1/videos/${ID}`, headers: await as('alice') })).json();
  t.same(again.playback, first.playback, 'the same URLs for everyone, every time: cacheable');

  // the owner makes it private: the very next answer is signed
  world.records.set(ID, ready('private'));
  const priv = (await app.inject({ url: `/v1/videos/${ID}`, headers: await as('alice') })).json();
  t.match(priv.playback.hls, new RegExp(`^http://gateway.test/v1/videos/${ID}/hls/master.m3u8\\?token=\\d+\\.o\\.`));
  t.match(priv.playback.poster, /^https:\/\/s3\.test\/reel-media\/.*poster\.jpg\?ttl=/);
  t.ok(priv.playback.expiresAt, 'signed links say when they expire');
  t.equal((await app.inject({ url: `/v1/videos/${ID}` })).statusCode, 404, 'and a visitor no longer sees it');

  // a processing public video that already plays: its growing playlist, unsigned too
  world.records.set(ID, video(ID, 'alice', { status: 'processing', playable: true, visibility: 'public', master: `videos/${ID}/hls/master.m3u8` }));
  const early = (await app.inject({ url: `/v1/videos/${ID}` })).json();
  t.same(early.playback, { hls: `https://cdn.example.com/media/videos/${ID}/hls/master.m3u8`, thumbnails: [] });
});

t.test('without MEDIA_PUBLIC_URL a public video is signed as before', async (t) => {
  const { app, world } = await build(t.teardown);
  world.records.set(ID, ready('public'));
  const body = (await app.inject({ url: `/v1/videos/${ID}` })).json();
  t.match(body.playback.hls, /\?token=\d+\.p\./);
  t.ok(body.playback.expiresAt);
});
