import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { loadConfig } from '@reel/runtime';
import { startTestInfra } from '@reel/stack';
import { createStorage, type Storage, type UploadedPart } from '@reel/storage';
import { s3Spec } from '@reel/storage/config';
import { Upload } from '@tus/server';
import t from 'tap';
import { withAnnouncedLength } from '../src/tus-request.ts';
import { type Info, type InfoStore, kvInfoStore, LOST_PARTS, MultipartTusStore, TUS_BUCKET } from '../src/tus-store.ts';

// Issue 11: a tus PATCH that does not end the upload answers its client once its bytes are all
// sent to S3, without waiting for S3's answer for its last part (the next PATCH's bytes flow
// meanwhile). These tests hold the store to what that must not lose, against a real S3 server and
// a real JetStream KV bucket, with two stores as two gateway replicas:
// - a PATCH on another replica, sent while the first replica's answers are late, finds the parts
//   in S3's list and the object is the file;
// - a part that fails after its PATCH was answered sets the offset back: the next PATCH is 409
//   with a reason, HEAD says where to resume, and the resent bytes make the object the file.

const MiB = 1024 * 1024;
const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

let storage: Storage;
let infos: InfoStore;
t.before(async () => {
  const infra = await startTestInfra(t.teardown);
  storage = createStorage(loadConfig(s3Spec, infra.env));
  await storage.ensureBuckets();
  const nc = await connect({ servers: infra.env.NATS_URL ?? '' });
  t.teardown(() => nc.close());
  infos = kvInfoStore(await new Kvm(nc).create(TUS_BUCKET, { history: 1 }));
});

/** `storage` with the answers for the parts of early PATCHes changed by `answers` (the parts themselves are sent for real). */
function withAnswers(answers: (real: Promise<UploadedPart[]>) => Promise<UploadedPart[]>): Storage {
  return {
    ...storage,
    async appendParts(upload, firstPart, body, opts) {
      const result = await storage.appendParts(upload, firstPart, body, opts);
      if (!result.unanswered) return result;
      const changed = answers(result.unanswered.answers);
      changed.catch(() => {});
      return { ...result, unanswered: { parts: result.unanswered.parts, answers: changed } };
    },
  };
}

const storeOn = (s: Storage) => new MultipartTusStore({ storage: s, bucket: storage.sourceBucket, expirationMs: 60_000, infos });

/** One PATCH of `bytes` at `offset`, its Content-Length announced as a tus client's is. */
const patch = (store: MultipartTusStore, id: string, bytes: Buffer, offset: number) =>
  withAnnouncedLength(bytes.length, () => store.write(Readable.from([bytes.subarray(0, bytes.length >> 1), bytes.subarray(bytes.length >> 1)]), id, offset));

const stored = async (key: string) => (await storage.getBytes(storage.sourceBucket, key)) ?? Buffer.alloc(0);

async function create(store: MultipartTusStore, id: string, size: number) {
  await store.create(new Upload({ id, size, offset: 0, metadata: {} }));
}

t.test('a PATCH on another replica, while the first one still awaits its answers, finds the parts in S3', async (t) => {
  const data = randomBytes(30 * MiB);
  const id = `sources/early-${Date.now()}/tus`;
  // the first replica hears back from S3 a second late (its parts are stored all the same)
  const late = storeOn(withAnswers(async (real) => new Promise((resolve) => setTimeout(() => resolve(real), 1_000))));
  const other = storeOn(storage);
  await create(late, id, data.length);

  t.equal(await patch(late, id, data.subarray(0, 12 * MiB), 0), 12 * MiB, 'the first PATCH is answered');
  const info = (await infos.get(id)) as Info;
  t.equal(info.offset, 12 * MiB, 'the info counts its bytes');
  t.same(info.parts, [], 'none of its parts answered yet');
  t.same(info.unanswered, [{ part: 1, size: 12 * MiB }], 'its part is unanswered');

  t.equal(await patch(other, id, data.subarray(12 * MiB, 24 * MiB), 12 * MiB), 24 * MiB, 'the other replica takes the next PATCH');
  t.equal(await patch(other, id, data.subarray(24 * MiB), 24 * MiB), data.length, 'and the last');
  await late.drain();
  const done = (await infos.get(id)) as Info;
  t.ok(done.done, 'the upload is complete');
  t.same(
    done.parts.map((p) => p.size),
    [12 * MiB, 12 * MiB, 6 * MiB],
    'one part per PATCH, the first one found in S3',
  );
  t.equal(sha256(await stored(id)), sha256(data), 'the stored object is the file');
});

t.test('a part that fails after its PATCH was answered: 409 with a reason, the offset goes back, the resent bytes complete the file', async (t) => {
  const data = randomBytes(30 * MiB);
  const id = `sources/lost-${Date.now()}/tus`;
  let failures = 1;
  // S3 stores the part, but this replica hears an error (as when the connection drops before the answer)
  const flaky = storeOn(
    withAnswers(async (real) => {
      const parts = await real;
      if (failures-- > 0) throw Object.assign(new Error('UploadPart 1: connection reset'), { code: 'ECONNRESET' });
      return parts;
    }),
  );
  await create(flaky, id, data.length);

  t.equal(await patch(flaky, id, data.subarray(0, 12 * MiB), 0), 12 * MiB, 'the first PATCH is answered');
  const refused = await patch(flaky, id, data.subarray(12 * MiB, 24 * MiB), 12 * MiB).then(
    () => undefined,
    (err: unknown) => err,
  );
  t.same(refused, { status_code: 409, body: LOST_PARTS.body }, 'the next PATCH is refused: 409, and why');
  const upload = await flaky.getUpload(id);
  t.equal(upload.offset, 0, 'HEAD says to resume from before the lost part');
  const info = (await infos.get(id)) as Info;
  t.same([info.parts, info.unanswered], [[], []], 'the info holds no part it cannot vouch for');

  t.equal(await patch(flaky, id, data.subarray(0, 12 * MiB), 0), 12 * MiB, 'the resent bytes are taken');
  t.equal(await patch(flaky, id, data.subarray(12 * MiB, 24 * MiB), 12 * MiB), 24 * MiB);
  t.equal(await patch(flaky, id, data.subarray(24 * MiB), 24 * MiB), data.length);
  t.ok(((await infos.get(id)) as Info).done, 'the upload is complete');
  t.equal(sha256(await stored(id)), sha256(data), 'the stored object is the file');
});

t.test('a PATCH that ends the upload waits for every answer, its own and the earlier ones', async (t) => {
  const data = randomBytes(20 * MiB);
  const id = `sources/end-${Date.now()}/tus`;
  const late = storeOn(withAnswers(async (real) => new Promise((resolve) => setTimeout(() => resolve(real), 500))));
  await create(late, id, data.length);
  t.equal(await patch(late, id, data.subarray(0, 10 * MiB), 0), 10 * MiB);
  t.equal(await patch(late, id, data.subarray(10 * MiB), 10 * MiB), data.length);
  // complete as soon as the last PATCH is answered: nothing is left to settle
  const info = (await infos.get(id)) as Info;
  t.ok(info.done, 'complete when the last PATCH is answered');
  t.same(info.unanswered, [], 'no part unanswered');
  t.equal(sha256(await stored(id)), sha256(data), 'the stored object is the file');
});
