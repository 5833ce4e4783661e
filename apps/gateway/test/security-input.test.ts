// Issue 14 item 12 and issue 9 item 6, replayed: malformed multipart bodies (a client's fault,
// so 4xx, never 500), and poison on the bus (any bytes on a video.* subject) that used to kill
// the gateway's NATS read loop for minutes.
import { randomUUID } from 'node:crypto';
import { mintToken } from '@reel/token';
import { makeClip, startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import { connect } from '@nats-io/transport-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { discard, errorOf, SECRET, testGateway } from './security-fakes.ts';

t.test('14.12: malformed multipart is a 400, never a 500', async (t) => {
  const { app, published } = await testGateway({}, () => ({
    // storage that takes whatever it is given (the bytes go nowhere)
    putStream: (_bucket, _key, body) => discard(body),
    async remove() {},
    async removePrefix() {
      return 0;
    },
  }));
  t.teardown(() => app.close());
  const authorization = `Bearer ${await mintToken(SECRET, 'mallory', 600)}`;
  const post = (contentType: string, payload: string) =>
    app.inject({ method: 'POST', url: '/v1/videos', headers: { authorization, 'content-type': contentType }, payload });

  const noBoundary = await post('multipart/form-data', '--x\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\nabc\r\n--x--\r\n');
  t.equal(noBoundary.statusCode, 400, 'no boundary');
  t.equal(errorOf(noBoundary.body).code, 'bad_request');

  const head =
    '--b0undary\r\nContent-Disposition: form-data; name="title"\r\n\r\ncut\r\n--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\nContent-Type: video/mp4\r\n\r\n';
  const cut = await post('multipart/form-data; boundary=b0undary', `${head}${'x'.repeat(64 * 1024)}`);
  t.equal(cut.statusCode, 400, 'the body ends mid-part');
  t.equal(errorOf(cut.body).code, 'bad_request');

  const cutInHeaders = await post('multipart/form-data; boundary=b0undary', '--b0undary\r\nContent-Disposition: form-da');
  t.equal(cutInHeaders.statusCode, 400, 'the body ends inside a part header');

  const wrongBoundary = await post('multipart/form-data; boundary=other', `${head}abc\r\n--b0undary--\r\n`);
  t.ok(wrongBoundary.statusCode >= 400 && wrongBoundary.statusCode < 500, `a boundary that is not in the body: ${wrongBoundary.statusCode}`);

  t.same(
    published.map((p) => p.subject),
    [],
    'nothing was published for any of them',
  );
});

t.test('9.6: poison on video.* subjects does not stall the gateway', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reel-sec-input-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const platform = await startTestPlatform(t.teardown);
  const token = await platform.token('poisoned');
  const nc = await connect({ servers: platform.env.NATS_URL });
  t.teardown(() => nc.close());

  // a real video, processing while the poison arrives, watched over SSE
  const res = await uploadFile(platform.url, token, makeClip(dir, 'silent', 4));
  t.equal(res.status, 202);
  const { id } = (await res.json()) as { id: string };
  await waitForVideo(platform.url, token, id, ['processing', 'ready', 'failed']);
  // (headers arrive once the stream listens to the live feed: the poison goes through its decoding)
  const sse = await fetch(`${platform.url}/v1/videos/${id}/events`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(sse.status, 200);
  const stream = sse.text();

  // wrong types about a video: the services rightly fail the video they name, so not the real one
  const other = randomUUID();
  const garbage = new Uint8Array(900 * 1024).map((_, i) => (i * 7919) % 256);
  const poison: (string | Uint8Array)[] = [
    'null',
    '[]',
    '42',
    '"x"',
    'true',
    '{}',
    '{"data":null}',
    '{"id":"x","type":"live.progress","version":1,"occurredAt":"2026-01-01T00:00:00Z","data":null}',
    `{"id":"x","type":"live.progress","version":1,"occurredAt":"2026-01-01T00:00:00Z","data":{"videoId":"${other}","stage":42}}`,
    `{"id":"x","type":"live.progress","version":1,"occurredAt":"2026-01-01T00:00:00Z","data":{"videoId":{"toString":1}}}`,
    new Uint8Array([0xff, 0xfe, 0xfd, 0x80, 0x00, 0xc3, 0x28]),
    garbage,
    '',
  ];
  const subjects = ['live.progress', 'video.uploaded', 'video.failed', 'video.packaged', 'video.nonsense'];
  let sent = 0;
  for (const subject of subjects)
    for (const payload of poison) {
      nc.publish(subject, payload);
      sent++;
    }
  await nc.flush();
  t.comment(`${sent} poison messages published on ${subjects.join(', ')}`);

  // the gateway still talks to NATS: health asks every service over it
  const health = (await (await fetch(`${platform.url}/v1/health`)).json()) as { status: string; services: Record<string, string> };
  t.equal(health.status, 'ok', `health right after the poison: ${JSON.stringify(health.services)}`);
  const video = await waitForVideo(platform.url, token, id, ['ready', 'failed'], 90_000);
  t.equal(video.status, 'ready', 'the real video is processed');
  const text = await stream;
  const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
  t.equal(events[0], 'status');
  t.ok(events.includes('progress'), `the SSE stream kept delivering: ${events.join(',')}`);
  t.equal(events.at(-1), 'ready');
  const after = (await (await fetch(`${platform.url}/v1/health`)).json()) as { status: string };
  t.equal(after.status, 'ok', 'still healthy at the end');
});
