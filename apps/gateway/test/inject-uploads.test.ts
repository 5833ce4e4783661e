// Uploads through app.inject on fakes: the multipart POST, direct uploads (create, complete), tus's door.
import t from 'tap';
import { build, errorOf, video } from './helper.ts';

const ID = '0b6c1f6e-5d1a-4c3b-9e2f-7a8b9c0d1e2f';
const BOUNDARY = 'reelinject';
const form = (parts: { name: string; filename?: string; value: string }[]) =>
  `${parts
    .map(
      (p) =>
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"\r\nContent-Type: video/mp4` : ''}\r\n\r\n${p.value}\r\n`,
    )
    .join('')}--${BOUNDARY}--\r\n`;
const multipart = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };

t.test('POST /v1/videos streams the file to storage and publishes video.uploaded', async (t) => {
  const { app, world, as } = await build(t.teardown);
  const res = await app.inject({
    method: 'POST',
    url: '/v1/videos',
    headers: { ...(await as('alice')), ...multipart },
    payload: form([
      { name: 'visibility', value: 'public' },
      { name: 'file', filename: 'Holiday.mp4', value: 'videobytes' },
    ]),
  });
  t.equal(res.statusCode, 202);
  const { id } = res.json();
  t.equal(res.headers.location, `/v1/videos/${id}`);
  t.equal(world.objects.get(`reel-sources/sources/${id}/source`) ?? [...world.objects.values()][0], 'videobytes', 'the bytes are stored');
  t.match(world.published, [
    {
      subject: 'video.uploaded',
      id: `${id}.uploaded`,
      data: { videoId: id, ownerId: 'alice', title: 'Holiday', visibility: 'public', source: { size: 10, filename: 'Holiday.mp4' } },
    },
  ]);
});

t.test('POST /v1/videos refuses what it cannot take, and keeps nothing of it', async (t) => {
  const { app, world, as } = await build(t.teardown, { MAX_UPLOAD_BYTES: '1000' });
  const auth = await as('alice');
  const post = (headers: Record<string, string>, payload: string) => app.inject({ method: 'POST', url: '/v1/videos', headers, payload });
  t.equal((await post(multipart, form([{ name: 'file', filename: 'a.mp4', value: 'x' }]))).statusCode, 401, 'no token: 401');
  const json = await post({ ...auth, 'content-type': 'application/json' }, '{}');
  t.equal(json.statusCode, 415, 'not multipart: 415');
  t.equal(errorOf(json.body).code, 'unsupported_media_type');
  const noFile = await post({ ...auth, ...multipart }, form([{ name: 'title', value: 'x' }]));
  t.equal(noFile.statusCode, 400, 'no file part: 400');
  const big = await post({ ...auth, ...multipart }, form([{ name: 'file', filename: 'a.mp4', value: 'v'.repeat(2000) }]));
  t.equal(big.statusCode, 413, 'over MAX_UPLOAD_BYTES: 413');
  t.equal(errorOf(big.body).code, 'too_large');
  const badVisibility = await post(
    { ...auth, ...multipart },
    form([
      { name: 'visibility', value: 'friends' },
      { name: 'file', filename: 'a.mp4', value: 'v' },
    ]),
  );
  t.equal(badVisibility.statusCode, 400, 'a bad visibility: 400');
  t.equal(world.objects.size, 0, 'nothing refused is kept');
  t.equal(world.published.length, 0, 'nor published');
  world.down.storage = true;
  const down = await post({ ...auth, ...multipart }, form([{ name: 'file', filename: 'a.mp4', value: 'v' }]));
  t.equal(down.statusCode, 503, 'storage down: 503');
  t.equal(down.headers['retry-after'], '5');
});

t.test('POST /v1/uploads hands out a presigned PUT and records the video', async (t) => {
  const { app, world, as } = await build(t.teardown, { MAX_UPLOAD_BYTES: '1000' });
  const res = await app.inject({ method: 'POST', url: '/v1/uploads', headers: await as('alice'), payload: { filename: 'Trip.mov', size: 100 } });
  t.equal(res.statusCode, 201);
  const body = res.json();
  t.equal(res.headers.location, `/v1/videos/${body.videoId}`);
  t.match(body, { method: 'PUT', headers: {}, url: /size=100/ });
  t.match(world.published, [
    { subject: 'video.created', id: `${body.videoId}.created`, data: { ownerId: 'alice', title: 'Trip', upload: { method: 'presigned' } } },
  ]);

  const post = async (payload: object, headers: object = {}) => app.inject({ method: 'POST', url: '/v1/uploads', headers: { ...headers }, payload });
  t.equal((await post({ size: 1 })).statusCode, 401, 'no token: 401');
  t.equal((await post({ size: 2000 }, await as('alice'))).statusCode, 413, 'over the limit: 413');
  t.equal((await post({}, await as('alice'))).statusCode, 400, 'no size: 400');
  t.equal((await post({ size: 1, extra: true }, await as('alice'))).statusCode, 400, 'an unknown field: 400');
});

t.test('POST /v1/uploads/:videoId/complete checks the bytes, pins them, then publishes', async (t) => {
  const { app, world, as } = await build(t.teardown, { MAX_UPLOAD_BYTES: '1000' });
  const complete = async (sub: string, id = ID) => app.inject({ method: 'POST', url: `/v1/uploads/${id}/complete`, headers: await as(sub) });
  world.records.set(ID, video(ID, 'alice', { status: 'waiting_upload', visibility: 'public' }));
  const missing = await complete('alice');
  t.equal(missing.statusCode, 409, 'before any bytes: 409');
  t.equal(errorOf(missing.body).code, 'upload_missing');
  t.equal((await complete('bob')).statusCode, 403, "someone else's public video: 403");
  t.equal((await complete('alice', '2d8e3b80-7f3c-4e5d-9a4b-9c0d1e2f3041')).statusCode, 404, 'an unknown video: 404');
  t.equal((await app.inject({ method: 'POST', url: `/v1/uploads/${ID}/complete` })).statusCode, 401, 'no token: 401');

  const uploaded = [...world.objects.keys()].length;
  t.equal(uploaded, 0);
  world.objects.set(`reel-sources/uploads/${ID}/direct`, 'v'.repeat(2000));
  // whatever key the presigned URL wrote, it is the one complete reads: find it from a real create
  const created = (await app.inject({ method: 'POST', url: '/v1/uploads', headers: await as('alice'), payload: { size: 10 } })).json();
  const directKey = new URL(created.url).pathname.split('/').slice(2).join('/').replace(created.videoId, ID);
  world.objects.clear();
  world.objects.set(`reel-sources/${directKey}`, 'v'.repeat(2000));
  const big = await complete('alice');
  t.equal(big.statusCode, 413, 'more bytes than the limit: 413');
  t.equal(world.objects.size, 0, 'and they are removed');

  world.objects.set(`reel-sources/${directKey}`, 'v'.repeat(10));
  world.published.length = 0;
  const ok = await complete('alice');
  t.equal(ok.statusCode, 202);
  t.same(ok.json(), { id: ID, status: 'processing' });
  t.match(world.published, [{ subject: 'video.uploaded', id: `${ID}.uploaded`, data: { videoId: ID, source: { size: 10 } } }]);
  t.notOk(world.objects.has(`reel-sources/${directKey}`), 'the upload key is emptied: a later PUT changes nothing read');

  world.records.set(ID, video(ID, 'alice', { status: 'processing' }));
  const again = await complete('alice');
  t.equal(again.statusCode, 409, 'a video no longer waiting: 409');
  t.equal(errorOf(again.body).code, 'conflict');
});

t.test('tus: the caller and the upload are checked before tus sees the request', async (t) => {
  const { app, world, as } = await build(t.teardown);
  t.equal(
    (await app.inject({ method: 'POST', url: '/v1/tus', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10' } })).statusCode,
    401,
    'no token: 401',
  );
  t.equal((await app.inject({ method: 'HEAD', url: '/v1/tus/not-an-id', headers: await as('alice') })).statusCode, 404, 'not an upload id: 404');
  world.records.set(ID, video(ID, 'bob', { status: 'waiting_upload' }));
  t.equal((await app.inject({ method: 'HEAD', url: `/v1/tus/${ID}`, headers: await as('alice') })).statusCode, 404, "someone else's upload: 404");
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/v1/tus',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
  });
  t.equal(preflight.statusCode, 204, 'a CORS preflight needs no token');
  t.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
});
