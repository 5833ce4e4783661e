// POST /v1/videos/:id/retry (issue 9 item 8): the owner re-drives a failed video from its stored
// source; anything else is refused with the reason.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '@reel/token';
import { startTestPlatform, uploadFile, waitForVideo } from '@reel/stack';
import { createStorage, keys } from '@reel/storage';
import { until } from '@reel/testing';
import t from 'tap';
import { errorOf, SECRET, testGateway, video } from './security-fakes.ts';

const ID = '6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

t.test('the rules, on fakes', async (t) => {
  const sizes = new Map<string, number>();
  const { app, records, published } = await testGateway({}, () => ({ size: async (_b, key) => sizes.get(key) }));
  t.teardown(() => app.close());
  const alice = { authorization: `Bearer ${await mintToken(SECRET, 'alice', 600)}` };
  const bob = { authorization: `Bearer ${await mintToken(SECRET, 'bob', 600)}` };
  const retry = (headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: `/v1/videos/${ID}/retry`, headers });
  const source = { bucket: 'reel-sources', key: keys.source(ID), size: 1234 };
  const failed = { status: 'failed' as const, title: 'Cat', description: 'a cat', error: { code: 'transcode_failed', stage: 'transcode', message: 'x' } };

  t.equal((await retry()).statusCode, 401, 'a token is required');
  records.set(ID, video(ID, 'alice', { ...failed, sourceObject: source }));
  t.equal((await retry(bob)).statusCode, 404, "someone else's private video does not exist for them");
  records.set(ID, video(ID, 'alice', { ...failed, visibility: 'public', sourceObject: source }));
  t.equal((await retry(bob)).statusCode, 403, "someone else's public video is not theirs to retry");

  records.set(ID, video(ID, 'alice', { status: 'processing', sourceObject: source }));
  const busy = await retry(alice);
  t.equal(busy.statusCode, 409);
  t.same(errorOf(busy.body), { code: 'conflict', message: 'only a failed video can be retried; this one is processing' });

  records.set(ID, video(ID, 'alice', failed));
  const noRecord = await retry(alice);
  t.equal(noRecord.statusCode, 409);
  t.equal(errorOf(noRecord.body).code, 'source_gone', 'no source known');
  records.set(ID, video(ID, 'alice', { ...failed, sourceObject: source }));
  const gone = await retry(alice);
  t.equal(gone.statusCode, 409);
  t.equal(errorOf(gone.body).code, 'source_gone', 'the source object is not in storage');
  t.match(errorOf(gone.body).message, /no longer stored/);
  t.same(published, [], 'nothing published for a refused retry');

  sizes.set(source.key, 1234);
  const ok = await retry(alice);
  t.equal(ok.statusCode, 202);
  t.same(JSON.parse(ok.body), { id: ID, status: 'processing' });
  t.equal(ok.headers.location, `/v1/videos/${ID}`);
  t.same(published, [
    {
      subject: 'video.uploaded',
      id: `${ID}.uploaded.2`,
      data: {
        videoId: ID,
        ownerId: 'alice',
        title: 'Cat',
        description: 'a cat',
        visibility: 'private',
        source: { bucket: 'reel-sources', key: source.key, size: 1234 },
        attempt: 2,
      },
    },
  ]);
  records.set(ID, video(ID, 'alice', { ...failed, sourceObject: source, attempt: 2 }));
  await retry(alice);
  t.equal(published[1]?.id, `${ID}.uploaded.3`, 'the next attempt has its own event id');
  const spec = JSON.parse((await app.inject({ method: 'GET', url: '/openapi.json' })).body) as { paths: Record<string, Record<string, { responses: object }>> };
  t.same(
    Object.keys(spec.paths['/v1/videos/{id}/retry']?.post?.responses ?? {}).sort(),
    ['202', '400', '401', '403', '404', '409'],
    'in OpenAPI, with its answers',
  );
});

t.test('on the platform: a failed video fails again the same way; without its source it is 409 source_gone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reel-retry-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const platform = await startTestPlatform(t.teardown);
  const token = await platform.token('retrier');
  const notes = join(dir, 'notes.mp4');
  writeFileSync(notes, 'these are my notes, not a video\n'.repeat(100));
  const { id } = (await (await uploadFile(platform.url, token, notes)).json()) as { id: string };
  const first = (await waitForVideo(platform.url, token, id)) as { status: string; updatedAt: string; error?: { code: string; message: string } };
  t.equal(first.status, 'failed');
  const retry = () => fetch(`${platform.url}/v1/videos/${id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });

  const res = await retry();
  t.equal(res.status, 202, 'a failed video may be retried');
  t.same(await res.json(), { id, status: 'processing' });
  let last = first;
  const again = await until(
    'the retried video to be processed and fail again',
    async () => {
      last = (await (await fetch(`${platform.url}/v1/videos/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as typeof first;
      return last.updatedAt !== first.updatedAt && last.status === 'failed' && last;
    },
    { timeoutMs: 60_000, everyMs: 250, explain: () => `last seen: ${last.status}, updatedAt ${last.updatedAt} (first failure ${first.updatedAt})` },
  );
  t.not(again.updatedAt, first.updatedAt, 'processed again');
  t.equal(again.status, 'failed', 'and failed again');
  t.equal(again.error?.code, first.error?.code, `with the same reason (${first.error?.code}: ${first.error?.message})`);

  const storage = createStorage({ S3_SOURCE_BUCKET: 'reel-sources', S3_MEDIA_BUCKET: 'reel-media', S3_REGION: 'us-east-1', ...platform.env } as never);
  await storage.removePrefix(storage.sourceBucket, keys.sourcePrefix(id));
  const gone = await retry();
  t.equal(gone.status, 409);
  const body = (await gone.json()) as { error: { code: string; message: string } };
  t.equal(body.error.code, 'source_gone');
  t.comment(`409 ${body.error.code}: ${body.error.message}`);
});
