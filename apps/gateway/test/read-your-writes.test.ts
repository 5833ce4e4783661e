import { QueryError, type VideoRecord } from '@reel/events';
import t from 'tap';
import { type Catalog, readYourWrites } from '../src/services.ts';

// The catalog records an upload a moment after the gateway answered 202: a GET in between must
// not be a 404 for a video the bus has just announced, and must stay a quick 404 for any other id.
const record = { id: 'v1', status: 'processing' } as VideoRecord;
function catalogRecordingAfter(misses: number): Catalog & { calls: number } {
  const c = {
    calls: 0,
    async get() {
      if (++c.calls <= misses) throw new QueryError('not_found', 'no such video');
      return record;
    },
    async list() {
      return { items: [], nextCursor: null };
    },
    async listPublic() {
      return { items: [], nextCursor: null };
    },
  };
  return c;
}

t.test('a just-announced video is waited for until the catalog has it', async (t) => {
  const inner = catalogRecordingAfter(3);
  const got = await readYourWrites(inner, () => true).get('v1', 'alice');
  t.equal(got, record);
  t.equal(inner.calls, 4);
});

t.test('an id nobody announced is a 404 at once', async (t) => {
  const inner = catalogRecordingAfter(3);
  const started = Date.now();
  await t.rejects(readYourWrites(inner, () => false).get('v1', 'alice'), { code: 'not_found' });
  t.equal(inner.calls, 1);
  t.ok(Date.now() - started < 50);
});

t.test('an announced video the catalog never records is a 404 after the wait', async (t) => {
  const inner = catalogRecordingAfter(Number.POSITIVE_INFINITY);
  const started = Date.now();
  await t.rejects(readYourWrites(inner, () => true, 300).get('v1', 'alice'), { code: 'not_found' });
  t.ok(Date.now() - started >= 300);
});

t.test('other errors are not retried', async (t) => {
  let calls = 0;
  const down: Catalog = {
    async get() {
      calls++;
      throw new QueryError('unavailable', 'no answer');
    },
    async list() {
      return { items: [], nextCursor: null };
    },
    async listPublic() {
      return { items: [], nextCursor: null };
    },
  };
  await t.rejects(readYourWrites(down, () => true).get('v1'), { code: 'unavailable' });
  t.equal(calls, 1);
});
