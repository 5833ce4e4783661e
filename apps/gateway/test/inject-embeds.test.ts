// Unlisted videos, embeds and the visitors' list (issue 12 item 7) through app.inject on fakes.
import t from 'tap';
import { fixtures } from '../../../packages/events/test/fixtures.ts';
import { build, errorOf, video } from './helper.ts';

const PUB = '0b6c1f6e-5d1a-4c3b-9e2f-7a8b9c0d1e2f';
const UNL = '1c7d2a7f-6e2b-4d4c-8f3a-8b9c0d1e2f30';
const PRIV = '2d8e3b80-7f3c-4e5d-9a4b-9c0d1e2f3041';
/** A 1920×1080 source, as the contract's fixtures probe it. */
const source = fixtures['video.ingested'].valid.probe;
const images = (id: string) => ({ poster: `videos/${id}/images/poster.jpg`, thumbnails: [], storyboard: 's.jpg', storyboardVtt: 's.vtt' });
const ready = (id: string, visibility: 'public' | 'unlisted' | 'private', createdAt = '2026-01-01T00:00:00.000Z') =>
  video(id, 'alice', {
    status: 'ready',
    playable: true,
    visibility,
    title: `${visibility} <cat>`,
    master: `videos/${id}/hls/master.m3u8`,
    images: images(id),
    source,
    createdAt,
  });

async function world(teardown: Parameters<typeof build>[0], env: Record<string, string> = {}) {
  const h = await build(teardown, env);
  h.world.records.set(PUB, ready(PUB, 'public', '2026-01-03T00:00:00.000Z'));
  h.world.records.set(UNL, ready(UNL, 'unlisted', '2026-01-02T00:00:00.000Z'));
  h.world.records.set(PRIV, ready(PRIV, 'private'));
  return h;
}

t.test('unlisted: anyone with the link watches it; only public ready videos are listed for visitors', async (t) => {
  const { app, world: w, as } = await world(t.teardown);
  const unl = await app.inject({ url: `/v1/videos/${UNL}` });
  t.equal(unl.statusCode, 200, 'a visitor with the id sees an unlisted video');
  t.match(unl.json().playback.hls, /\?token=\d+\.p\./, 'with a link for anyone');
  t.equal((await app.inject({ url: `/v1/videos/${PRIV}` })).statusCode, 404);

  w.records.set('3e9f4c91-8a4d-4f6e-8b5c-0d1e2f304152', video('3e9f4c91-8a4d-4f6e-8b5c-0d1e2f304152', 'bob', { visibility: 'public', status: 'processing' }));
  const list = await app.inject({ url: '/v1/public/videos?limit=10' });
  t.equal(list.statusCode, 200, 'no token needed');
  t.same(
    list.json().items.map((v: { id: string }) => v.id),
    [PUB],
    'public and ready only: never unlisted, private or unfinished',
  );
  t.match(list.json().items[0], { visibility: 'public', playback: { poster: /poster\.jpg/ } });
  t.equal((await app.inject({ url: '/v1/public/videos?limit=0' })).statusCode, 400);

  const patch = await app.inject({ method: 'PATCH', url: `/v1/videos/${PRIV}`, headers: await as('alice'), payload: { visibility: 'unlisted' } });
  t.equal(patch.statusCode, 200, 'the owner may make a video unlisted');
  t.equal(patch.json().visibility, 'unlisted');
  const bad = await app.inject({ method: 'PATCH', url: `/v1/videos/${PRIV}`, headers: await as('alice'), payload: { visibility: 'hidden' } });
  t.equal(bad.statusCode, 400);
});

t.test('a video can be unlisted from its upload on: multipart and direct uploads', async (t) => {
  const { app, world: w, as } = await build(t.teardown);
  const boundary = 'xYz';
  const multipart = await app.inject({
    method: 'POST',
    url: '/v1/videos',
    headers: { ...(await as('alice')), 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: `--${boundary}\r\nContent-Disposition: form-data; name="visibility"\r\n\r\nunlisted\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\nContent-Type: video/mp4\r\n\r\nbytes\r\n--${boundary}--\r\n`,
  });
  t.equal(multipart.statusCode, 202);
  const direct = await app.inject({ method: 'POST', url: '/v1/uploads', headers: await as('alice'), payload: { size: 5, visibility: 'unlisted' } });
  t.equal(direct.statusCode, 201);
  t.same(
    w.published.map((p) => [p.subject, (p.data as { visibility: string }).visibility]),
    [
      ['video.uploaded', 'unlisted'],
      ['video.created', 'unlisted'],
    ],
  );
});

t.test('a public link stops working once the video is private, not when it becomes unlisted', async (t) => {
  const { app, world: w, playbackToken } = await world(t.teardown, { PLAYBACK_RECHECK_SEC: '0' });
  w.objects.set(`reel-media/videos/${UNL}/hls/master.m3u8`, '#EXTM3U\n');
  const token = playbackToken(UNL, 'public');
  t.equal((await app.inject({ url: `/v1/videos/${UNL}/hls/master.m3u8?token=${token}` })).statusCode, 200, 'unlisted: the link works');
  w.records.set(UNL, ready(UNL, 'private'));
  t.equal((await app.inject({ url: `/v1/videos/${UNL}/hls/master.m3u8?token=${token}` })).statusCode, 403, 'private: it does not');
});

t.test('GET /embed/:id: the player page for public and unlisted videos, framable as configured', async (t) => {
  const { app } = await world(t.teardown, { EMBED_FRAME_ANCESTORS: 'https://blog.example.com  https://*.example.org' });
  for (const id of [PUB, UNL]) {
    const res = await app.inject({ url: `/embed/${id}` });
    t.equal(res.statusCode, 200);
    t.match(res.headers['content-type'], /^text\/html/);
    t.match(res.headers['content-security-policy'], /frame-ancestors https:\/\/blog\.example\.com https:\/\/\*\.example\.org$/);
    t.match(res.body, '<template id="tpl-watch">', 'the watch page’s own player');
    t.match(res.body, '<script type="module" src="/ui/js/embed.js">');
    t.notMatch(res.body, /main\.js|upload\.js|library\.js/, 'nothing of the rest of the page');
    t.match(res.body, '<link rel="stylesheet" href="/ui/app.css">', 'the page’s own styles');
    t.match(res.body, '<meta name="robots" content="noindex">');
  }
  const priv = await app.inject({ url: `/embed/${PRIV}` });
  t.equal(priv.statusCode, 404, 'a private video is refused');
  t.notMatch(priv.body, 'tpl-watch', 'no player');
  t.equal((await app.inject({ url: '/embed/nope' })).statusCode, 404);
  t.match((await app.inject({ url: '/' })).headers['content-security-policy'], /frame-ancestors 'none'/, 'the rest of the page is never framed');
  const js = await app.inject({ url: '/ui/js/embed.js' });
  t.equal(js.statusCode, 200);
  t.match(js.body, "token: ''", 'the embed never sends the browser’s token');
});

t.test('GET /oembed: oEmbed 1.0 for public and unlisted links, 404 for private, 501 for xml', async (t) => {
  const { app } = await world(t.teardown);
  const ask = (url: string, extra = '') => app.inject({ url: `/oembed?url=${encodeURIComponent(url)}${extra}` });
  const pub = await ask(`http://gateway.test/#/watch/${PUB}`, '&format=json');
  t.equal(pub.statusCode, 200);
  t.match(pub.json(), {
    version: '1.0',
    type: 'video',
    provider_name: 'Reel',
    provider_url: 'http://gateway.test/',
    title: 'public <cat>',
    width: 640,
    height: 360,
    thumbnail_url: /poster\.jpg/,
    thumbnail_width: 1280,
    thumbnail_height: 720,
  });
  t.equal(
    pub.json().html,
    `<iframe src="http://gateway.test/embed/${PUB}" width="640" height="360" title="public &#60;cat&#62;" frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>`,
    'an iframe of the embed page, the title escaped',
  );
  t.ok(pub.json().cache_age > 0, 'a signed poster: ask again before it expires');
  const unl = await ask(`http://gateway.test/embed/${UNL}`, '&maxwidth=320');
  t.match(unl.json(), { width: 320, height: 180 }, 'unlisted too, within maxwidth');
  t.match((await ask(`http://gateway.test/embed/${UNL}`, '&maxheight=90')).json(), { width: 160, height: 90 }, 'and maxheight');
  const refused: [string, string][] = [
    [`http://gateway.test/#/watch/${PRIV}`, 'private'],
    [`http://elsewhere.test/#/watch/${PUB}`, 'another site'],
    ['http://gateway.test/docs', 'not a video link'],
    ['not a url', 'not a URL'],
  ];
  for (const [url, why] of refused) {
    const res = await ask(url);
    t.equal(res.statusCode, 404, why);
    t.equal(errorOf(res.body).code, 'not_found');
  }
  t.equal((await ask(`http://gateway.test/embed/${PUB}`, '&format=xml')).statusCode, 501, 'xml is not served');
});
