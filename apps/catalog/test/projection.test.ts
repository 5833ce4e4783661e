// Integration: the real projection handler map and the catalog's queries against a real Postgres.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Envelope, type HandlerContext, type Publisher, QueryError, type Subject, silentLogger, VideoRecord } from '@reel/events';
import { startTestInfra } from '@reel/stack';
import { Value } from '@sinclair/typebox/value';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import t from 'tap';
import { openDb } from '../src/db.ts';
import { foldAll, toRecord, type VideoState } from '../src/fold.ts';
import { createProjection } from '../src/projection.ts';
import { createQueries } from '../src/queries.ts';
import { sweepExpiredUploads } from '../src/sweeper.ts';
import { createdHistory, event, uploadedHistory, VIDEO } from './history.ts';

const infra = await startTestInfra(t.teardown);
const DATABASE_URL = infra.env.DATABASE_URL as string;
const { db, close } = await openDb(DATABASE_URL);
t.teardown(close);
/** What the projection published, and whether the next publish fails (as a NATS outage would make it). */
const announced: { subject: string; data: Record<string, unknown>; id?: string }[] = [];
let failNextPublish = false;
const recorder = {
  publish: async (subject: string, data: Record<string, unknown>, opts?: { id?: string }) => {
    if (failNextPublish) {
      failNextPublish = false;
      throw new Error('nats: timeout');
    }
    announced.push({ subject, data, id: opts?.id });
    return { id: opts?.id ?? 'x', seq: announced.length, duplicate: false };
  },
} as unknown as Publisher;
const handlers = createProjection(db, { publisher: recorder });
const queries = createQueries(db);

const ctx = (envelope: Envelope, deliveryCount = 1): HandlerContext =>
  ({ envelope, log: silentLogger, signal: new AbortController().signal, working() {}, deliveryCount, isLastAttempt: false }) as HandlerContext;
const apply = (e: Envelope, deliveryCount = 1) =>
  (handlers[e.type as Subject] as (d: unknown, c: HandlerContext) => Promise<void>)(e.data, ctx(e, deliveryCount));
const readyOfVideo = (id: string) => announced.filter((a) => a.subject === 'video.ready' && a.data.videoId === id);

/** The same history for another video (and owner). */
const forVideo = (videoId: string, ownerId: string, events: Envelope[]): Envelope[] =>
  events.map((e) => {
    const data = e.data as Record<string, unknown>;
    return { ...e, id: `${videoId}:${e.id}`, data: { ...data, videoId, ...('ownerId' in data ? { ownerId } : {}) } };
  });
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

t.test('events applied backwards and twice read back as the fold of the history says', async (t) => {
  const history = createdHistory();
  for (const e of [...history].reverse()) await apply(e);
  for (const e of history.slice(3, 9)) await apply(e);
  const v = await queries.get({ id: VIDEO, viewer: 'u1' });
  t.same(v, toRecord(foldAll(history) as VideoState), 'the row is the fold of the history');
  t.match(v, { status: 'ready', title: 'Cat, renamed', visibility: 'public', attempt: 1, master: `sources/${VIDEO}/original` });
  t.ok(Value.Check(VideoRecord, v), 'the record keeps the contract');
  t.same(await queries.get({ id: VIDEO }), v, 'public: anyone sees it');
  const ready = await queries.list({ ownerId: 'u1', limit: 10, status: 'ready' });
  t.same(
    ready.items.map((i) => i.id),
    [VIDEO],
  );
});

t.test('the outage bug: packaged and thumbnails before uploaded end ready; not shown until the owner is known', async (t) => {
  const id = uuid(1);
  const [uploaded, ...rest] = forVideo(id, 'u2', uploadedHistory());
  for (const e of rest.filter((e) => e.type === 'video.packaged' || e.type === 'video.thumbnails.created')) await apply(e);
  await t.rejects(queries.get({ id, viewer: 'u2' }), { code: 'not_found' }, 'owner-less: not there yet');
  t.same((await queries.list({ ownerId: 'u2', limit: 10 })).items, []);
  await apply(uploaded as Envelope);
  t.match(await queries.get({ id, viewer: 'u2' }), { status: 'ready', ownerId: 'u2', title: 'Cat' });
});

t.test('a deleted video is a tombstone: not shown, not revived by a late event', async (t) => {
  const id = uuid(2);
  const history = forVideo(id, 'u3', createdHistory());
  for (const e of history.slice(0, 5)) await apply(e);
  await apply(forVideo(id, 'u3', [event('video.deleted', 6)])[0] as Envelope);
  for (const e of history.slice(5)) await apply(e);
  await apply(forVideo(id, 'u3', [event('video.uploaded', 30, { attempt: 2 })])[0] as Envelope);
  await t.rejects(queries.get({ id, viewer: 'u3' }), { code: 'not_found' });
  t.same((await queries.list({ ownerId: 'u3', limit: 10 })).items, []);
  const sql = postgres(DATABASE_URL, { max: 1 });
  t.teardown(() => sql.end());
  const [row] = await sql`select status, owner_id from videos where id = ${id}`;
  t.same({ ...row }, { status: 'deleted', owner_id: null }, 'the row stays as a tombstone');
});

t.test('all of a video’s events at once (concurrent handlers, repeats) give the fold’s record', async (t) => {
  const id = uuid(3);
  const history = forVideo(id, 'u4', createdHistory());
  await Promise.all([...history, ...history.slice(2, 8), ...history].map(apply));
  t.same(await queries.get({ id, viewer: 'u4' }), toRecord(foldAll(history) as VideoState));
});

t.test('a failed video, retried by its owner, becomes ready', async (t) => {
  const id = uuid(4);
  const run1 = forVideo(id, 'u5', [
    event('video.uploaded', 1),
    event('video.ingested', 2),
    event('video.failed', 5, { stage: 'transcode', code: 'encode_failed' }),
  ]);
  for (const e of run1) await apply(e);
  t.match(await queries.get({ id, viewer: 'u5' }), { status: 'failed', attempt: 1, error: { code: 'encode_failed' } });
  t.same(
    (await queries.list({ ownerId: 'u5', limit: 10, status: 'failed' })).items.map((i) => i.id),
    [id],
  );
  const run2 = forVideo(id, 'u5', [event('video.packaged', 30), event('video.thumbnails.created', 29), event('video.uploaded', 20, { attempt: 2 })]);
  for (const e of run2) await apply(e);
  const v = await queries.get({ id, viewer: 'u5' });
  t.match(v, { status: 'ready', attempt: 2, sourceObject: { bucket: 'reel-sources', size: 1234 } });
  t.notOk(v.error);
});

t.test('video.ready is published once, when the video turns ready, with what a subscriber needs', async (t) => {
  const id = uuid(6);
  const history = forVideo(id, 'u7', uploadedHistory());
  for (const e of history) await apply(e);
  for (const e of history) await apply(e);
  const ready = readyOfVideo(id);
  t.equal(ready.length, 1, 'one announcement for a history applied twice');
  t.match(ready[0], {
    id: `${id}.ready.1`,
    data: { videoId: id, ownerId: 'u7', attempt: 1, durationSec: 10, master: `sources/${VIDEO}/original`, poster: 'p.jpg' },
  });
  t.equal((ready[0]?.data.renditions as unknown[] | undefined)?.length, 1);
  t.equal(readyOfVideo(VIDEO).length, 1, 'the first test’s video was announced once too');
});

t.test('a ready video whose upload event comes last is announced when its owner is known', async (t) => {
  const id = uuid(7);
  const [uploaded, ...rest] = forVideo(id, 'u8', uploadedHistory());
  for (const e of rest) await apply(e);
  t.equal(readyOfVideo(id).length, 0, 'no owner yet: nothing to announce');
  await apply(uploaded as Envelope);
  t.match(readyOfVideo(id), [{ id: `${id}.ready.1`, data: { ownerId: 'u8' } }]);
});

t.test('a failed announcement fails the handler; its redelivery announces under the same id', async (t) => {
  const id = uuid(8);
  const history = forVideo(id, 'u9', uploadedHistory());
  const packaged = history.find((e) => e.type === 'video.packaged') as Envelope;
  for (const e of history.filter((e) => e !== packaged)) await apply(e);
  failNextPublish = true;
  await t.rejects(apply(packaged), { message: /timeout/ }, 'the handler fails, so the message is retried');
  t.match(await queries.get({ id, viewer: 'u9' }), { status: 'ready' }, 'the row was committed before the publish');
  t.equal(readyOfVideo(id).length, 0);
  await apply(packaged, 2);
  t.match(readyOfVideo(id), [{ id: `${id}.ready.1` }]);
  await apply(history[10] as Envelope);
  t.equal(readyOfVideo(id).length, 1, 'a later first delivery of another event announces nothing');
});

t.test('the owner’s retry that becomes ready is announced under its attempt', async (t) => {
  // the test above applies attempt 2's packaged and thumbnails before its upload: until the upload
  // arrives they read as attempt 1's, so that attempt is announced first (events out of order)
  const ids = readyOfVideo(uuid(4)).map((a) => a.id);
  t.same(ids, [`${uuid(4)}.ready.1`, `${uuid(4)}.ready.2`], 'each attempt once, the retry last');
  t.match(readyOfVideo(uuid(4)).at(-1), { data: { attempt: 2, ownerId: 'u5' } });
});

t.test('the sweeper deletes expired uploads, once the upload never came', async (t) => {
  const id = uuid(5);
  await apply(forVideo(id, 'u6', [event('video.created', 0, { upload: { method: 'presigned', expiresAt: '2026-11-27T08:01:00.000Z' } })])[0] as Envelope);
  const published: { subject: string; data: unknown; id?: string }[] = [];
  const publisher = {
    publish: async (subject: string, data: unknown, opts?: { id?: string }) => {
      published.push({ subject, data, id: opts?.id });
      return { id: opts?.id ?? 'x' };
    },
  } as unknown as Publisher;
  t.equal(await sweepExpiredUploads(db, publisher, silentLogger, new Date('2026-11-27T08:00:30.000Z')), 0, 'not expired yet');
  t.equal(await sweepExpiredUploads(db, publisher, silentLogger, new Date('2026-11-27T09:00:00.000Z')), 1);
  t.match(published, [{ subject: 'video.deleted', data: { videoId: id, ownerId: 'u6' }, id: `${id}.upload-expired` }]);
  await apply(forVideo(id, 'u6', [event('video.deleted', 3600)])[0] as Envelope);
  t.equal(await sweepExpiredUploads(db, publisher, silentLogger, new Date('2026-11-27T09:00:00.000Z')), 0, 'a tombstone is not swept again');
});

t.test('views: each view event counted once, in any order and repetition; they go with the video', async (t) => {
  const id = uuid(40);
  for (const e of forVideo(id, 'viewed', uploadedHistory())) await apply(e);
  const view = (n: number) => forVideo(id, 'viewed', [event('video.viewed', 100 + n, {}, `view-${n}`)])[0] as Envelope;
  const before = await queries.get({ id, viewer: 'viewed' });
  t.notOk(before.views, 'no views yet');
  await Promise.all([view(1), view(2), view(1), view(3), view(2)].map((e) => apply(e)));
  await apply(view(3), 2);
  const v = await queries.get({ id, viewer: 'viewed' });
  t.equal(v.views, 3, 'three distinct views, repeats and concurrent deliveries counted once');
  t.equal(v.updatedAt, before.updatedAt, 'a view does not change updatedAt');
  t.ok(Value.Check(VideoRecord, v), 'the record keeps the contract');
  await apply(forVideo(id, 'viewed', [event('video.deleted', 200)])[0] as Envelope);
  await apply(view(4));
  const [{ n }] = (await db.execute(`select count(*)::int as n from video_views where video_id = '${id}'`)) as unknown as [{ n: number }];
  t.equal(n, 0, 'a deleted video keeps no views, even one that came late');
});

t.test('unlisted: anyone with the id sees it, nobody’s list shows it; visitors list public ready videos', async (t) => {
  const [pub, unl, priv, busy] = [uuid(50), uuid(51), uuid(52), uuid(53)];
  const done = (id: string, visibility: string) =>
    forVideo(id, 'lister', [
      ...uploadedHistory().filter((e) => e.type !== 'video.updated'),
      event('video.updated', 12, { visibility: visibility as 'public' }),
    ]);
  for (const e of [...done(pub, 'public'), ...done(unl, 'unlisted'), ...done(priv, 'private')]) await apply(e);
  for (const e of forVideo(busy, 'lister', [event('video.uploaded', 1, { visibility: 'public' })])) await apply(e);
  t.match(await queries.get({ id: unl, viewer: 'someone' }), { visibility: 'unlisted', status: 'ready' }, 'an unlisted video for anyone with its id');
  t.match(await queries.get({ id: unl }), { visibility: 'unlisted' }, 'a visitor too');
  await t.rejects(queries.get({ id: priv, viewer: 'someone' }), { code: 'not_found' }, 'a private one is not there for others');
  const visitors = await queries.listPublic({ limit: 100 });
  const ids = visitors.items.map((v) => v.id);
  t.ok(ids.includes(pub), 'the public ready video is listed');
  t.notOk(ids.includes(unl) || ids.includes(priv) || ids.includes(busy), 'never an unlisted, private or unfinished one');
  t.ok(
    visitors.items.every((v) => v.visibility === 'public' && v.status === 'ready'),
    'only public ready videos',
  );
  const one = await queries.listPublic({ limit: 1 });
  t.equal(one.items.length, 1);
  if (one.nextCursor)
    t.notOk(
      (await queries.listPublic({ limit: 100, cursor: one.nextCursor })).items.some((v) => v.id === one.items[0]?.id),
      'pages do not repeat',
    );
  t.same((await queries.list({ ownerId: 'lister', limit: 10 })).items.map((v) => v.id).sort(), [pub, unl, priv, busy].sort(), 'the owner lists all of theirs');
});

t.test('queries answer unavailable when Postgres cannot be reached', async (t) => {
  const dead = await openDb('postgres://postgres@127.0.0.1:1/none', { migrate: false });
  t.teardown(dead.close);
  const q = createQueries(dead.db);
  await t.rejects(q.get({ id: VIDEO, viewer: 'u1' }), new QueryError('unavailable', 'the catalog database is unavailable'));
  await t.rejects(q.list({ ownerId: 'u1', limit: 10 }), { code: 'unavailable' });
  await t.rejects(q.get({ id: 'not-a-uuid' }), { code: 'not_found' }, 'what needs no database still answers');
});

t.test('rows of the previous schema are carried over by the migration', async (t) => {
  const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  t.teardown(() => admin.end());
  await admin`create database catalog_legacy`;
  const url = new URL(DATABASE_URL);
  url.pathname = '/catalog_legacy';
  // the schema as it was before the fold: the first two migrations only
  const old = mkdtempSync(join(tmpdir(), 'catalog-migrations-'));
  const folder = new URL('../drizzle', import.meta.url).pathname;
  cpSync(folder, old, { recursive: true });
  const journal = JSON.parse(readFileSync(join(old, 'meta/_journal.json'), 'utf8'));
  journal.entries = journal.entries.filter((e: { tag: string }) => e.tag === '0000_init' || e.tag === '0001_upload_expiry');
  writeFileSync(join(old, 'meta/_journal.json'), JSON.stringify(journal));
  const legacy = postgres(url.toString(), { max: 1, onnotice: () => {} });
  t.teardown(() => legacy.end());
  await migrate(drizzle(legacy), { migrationsFolder: old });
  const probe = (event('video.ingested', 2).data as { probe: unknown }).probe;
  const images = { poster: 'p.jpg', thumbnails: ['t.jpg'], storyboard: 's.jpg', storyboardVtt: 's.vtt' };
  const renditions = (event('video.packaged', 10).data as { renditions: unknown }).renditions;
  const at = '2026-11-20T10:00:00.000Z';
  await legacy`insert into videos (id, owner_id, title, description, visibility, status, stage, percent, source, created_at, updated_at)
    values (${uuid(11)}, 'old', 'Processing', '', 'private', 'processing', 'transcode', 40, ${JSON.stringify(probe)}::jsonb, ${at}, ${at})`;
  await legacy`insert into videos (id, owner_id, title, description, visibility, status, master, renditions, duration_sec, images, source, created_at, updated_at)
    values (${uuid(12)}, 'old', 'Ready', 'd', 'public', 'ready', 'videos/x/hls/master.m3u8', ${JSON.stringify(renditions)}::jsonb, 10, ${JSON.stringify(images)}::jsonb, ${JSON.stringify(probe)}::jsonb, ${at}, ${at})`;
  await legacy`insert into videos (id, owner_id, title, description, visibility, status, error_code, error_stage, error_message, created_at, updated_at)
    values (${uuid(13)}, 'old', 'Failed', '', 'private', 'failed', 'not_a_video', 'ingest', 'a still image', ${at}, ${at})`;
  await legacy`insert into videos (id, owner_id, title, description, visibility, status, upload_expires_at, created_at, updated_at)
    values (${uuid(14)}, 'old', 'Waiting', '', 'private', 'waiting_upload', '2026-11-21T10:00:00.000Z', ${at}, ${at})`;
  await legacy`insert into applied_events (event_id, subject) values ('e1', 'video.uploaded')`;

  const migrated = await openDb(url.toString());
  t.teardown(migrated.close);
  const q = createQueries(migrated.db);
  t.match(await q.get({ id: uuid(11), viewer: 'old' }), {
    status: 'processing',
    progress: { stage: 'transcode', percent: 40 },
    durationSec: 10,
    createdAt: at,
  });
  t.match(await q.get({ id: uuid(12), viewer: 'old' }), {
    status: 'ready',
    title: 'Ready',
    description: 'd',
    visibility: 'public',
    master: 'videos/x/hls/master.m3u8',
    images,
    durationSec: 10,
  });
  t.match(await q.get({ id: uuid(13), viewer: 'old' }), { status: 'failed', error: { code: 'not_a_video', stage: 'ingest', message: 'a still image' } });
  t.match(await q.get({ id: uuid(14), viewer: 'old' }), { status: 'waiting_upload', title: 'Waiting' });
  t.same((await q.list({ ownerId: 'old', limit: 10 })).items.length, 4);
  const swept: unknown[] = [];
  const publisher = { publish: async (...args: unknown[]) => void swept.push(args) } as unknown as Publisher;
  t.equal(await sweepExpiredUploads(migrated.db, publisher, silentLogger, new Date('2026-11-22T00:00:00.000Z')), 1, 'the expiry survives');
  // new events fold on top of the carried-over facts
  const project = createProjection(migrated.db, { publisher: recorder });
  const packaged = forVideo(uuid(11), 'old', [event('video.packaged', 3600 * 24 * 8), event('video.thumbnails.created', 3600 * 24 * 8)]);
  for (const e of packaged) await (project[e.type as Subject] as (d: unknown, c: HandlerContext) => Promise<void>)(e.data, ctx(e));
  t.match(await q.get({ id: uuid(11), viewer: 'old' }), { status: 'ready', title: 'Processing' });
  const [{ n }] = (await legacy`select count(*)::int as n from information_schema.tables where table_name = 'applied_events'`) as unknown as [{ n: number }];
  t.equal(n, 0, 'applied_events is gone');
});
