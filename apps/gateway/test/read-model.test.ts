import { QueryError, type VideoRecord } from '@reel/events';
import t from 'tap';
import { createRecordStore, memoryCatalog } from '../src/read-model.ts';
import type { Catalog } from '../src/services.ts';
import { video } from './helper.ts';

// The gateway answers from the records the catalog wrote to its bucket, with the catalog's rules;
// only what memory does not know is asked of the catalog (the fallback here counts the asks).
const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';

function fallback(): Catalog & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async get(id) {
      asked.push(`get ${id}`);
      throw new QueryError('not_found', 'no such video');
    },
    async list(q) {
      asked.push(`list ${q.ownerId}`);
      return { items: [], nextCursor: 'from-postgres' };
    },
    async listPublic() {
      asked.push('list public');
      return { items: [], nextCursor: null };
    },
  };
}

function world() {
  const store = createRecordStore();
  const fb = fallback();
  return { store, fb, catalog: memoryCatalog(store, fb) };
}

t.test('the owner sees a private video from memory; anyone else gets not_found, and the catalog is not asked', async (t) => {
  const { store, fb, catalog } = world();
  store.apply(A, video(A, 'alice'));
  t.equal((await catalog.get(A, 'alice')).id, A);
  await t.rejects(catalog.get(A, 'bob'), { code: 'not_found' });
  await t.rejects(catalog.get(A), { code: 'not_found' });
  t.same(fb.asked, []);
});

t.test('a public video is anyone’s', async (t) => {
  const { store, catalog } = world();
  store.apply(A, video(A, 'alice', { visibility: 'public' }));
  t.equal((await catalog.get(A)).id, A);
  t.equal((await catalog.get(A, 'bob')).id, A);
});

t.test('a change the catalog writes is what the next read sees', async (t) => {
  const { store, catalog } = world();
  store.apply(A, video(A, 'alice', { title: 'before' }));
  store.apply(A, video(A, 'alice', { title: 'after' }));
  t.equal((await catalog.get(A, 'alice')).title, 'after');
});

t.test('a deleted video is not_found from memory, without asking the catalog', async (t) => {
  const { store, fb, catalog } = world();
  store.apply(A, video(A, 'alice', { visibility: 'public' }));
  store.apply(A, null);
  await t.rejects(catalog.get(A, 'alice'), { code: 'not_found' });
  t.same(fb.asked, []);
  t.same(store.byOwner('alice'), []);
});

t.test('an id memory has not heard of goes to the catalog; a malformed one does not', async (t) => {
  const { fb, catalog } = world();
  await t.rejects(catalog.get(B, 'alice'), { code: 'not_found' });
  await t.rejects(catalog.get('not-a-uuid', 'alice'), { code: 'not_found' });
  t.same(fb.asked, [`get ${B}`]);
});

t.test("the owner's first list page comes from memory once loaded, newest first, with the catalog's cursor", async (t) => {
  const { store, fb, catalog } = world();
  store.apply(A, video(A, 'alice', { createdAt: '2026-01-01T00:00:01.000Z' }));
  store.apply(B, video(B, 'alice', { createdAt: '2026-01-01T00:00:03.000Z' }));
  store.apply(C, video(C, 'alice', { createdAt: '2026-01-01T00:00:02.000Z' }));
  store.apply('00000000-0000-4000-8000-0000000000dd', video('00000000-0000-4000-8000-0000000000dd', 'bob'));
  // before the initial load memory may be incomplete: the catalog answers
  t.equal((await catalog.list({ ownerId: 'alice', limit: 2 })).nextCursor, 'from-postgres');
  store.markLoaded();
  const page = await catalog.list({ ownerId: 'alice', limit: 2 });
  t.same(
    page.items.map((v: VideoRecord) => v.id),
    [B, C],
  );
  t.equal(Buffer.from(page.nextCursor ?? '', 'base64url').toString(), `2026-01-01T00:00:02.000Z|${C}`);
  // search, filters and later pages are Postgres's
  await catalog.list({ ownerId: 'alice', limit: 2, q: 'x' });
  await catalog.list({ ownerId: 'alice', limit: 2, status: 'ready' });
  await catalog.list({ ownerId: 'alice', limit: 2, cursor: page.nextCursor ?? '' });
  t.equal(fb.asked.filter((a) => a.startsWith('list')).length, 4);
});

t.test('a read after this replica published a change waits for the catalog’s record of it, bounded', async (t) => {
  const { store, catalog } = world();
  store.apply(A, video(A, 'alice', { title: 'before' }));
  store.expect(A);
  setTimeout(() => store.apply(A, video(A, 'alice', { title: 'after' })), 30);
  const started = Date.now();
  t.equal((await catalog.get(A, 'alice')).title, 'after');
  t.ok(Date.now() - started < 1000);
  // a publish that failed cancels the wait at once
  const cancel = store.expect(A);
  cancel();
  const again = Date.now();
  await catalog.get(A, 'alice');
  t.ok(Date.now() - again < 50);
});
