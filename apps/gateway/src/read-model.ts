import { Kvm } from '@nats-io/kv';
import { followBucket, isVideoId, type Logger, QueryError, RECORD_BUCKET, type VideoRecord } from '@reel/events';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Catalog } from './services.ts';

/** How long a read waits for this replica's own write to come back from the catalog. */
const OWN_WRITE_WAIT_MS = 2000;

/**
 * The videos as the catalog last projected them, held in memory. `get` is the record, `null` for
 * a deleted video, `undefined` when this replica has not heard of it (ask the catalog).
 */
export interface RecordStore {
  get(id: string): VideoRecord | null | undefined;
  /** Every known video of an owner, newest first (the catalog's list order). */
  byOwner(ownerId: string): VideoRecord[];
  /** The record (or `null`, deleted) as the bucket now has it. */
  apply(id: string, record: VideoRecord | null): void;
  /** True once the bucket's content at start has been read: only then is the memory complete. */
  readonly loaded: boolean;
  markLoaded(): void;
  /**
   * A write about `id` is being published by this replica: reads wait (bounded) for the next record.
   * Returns the cancel, for a publish that failed or was a repeat (no record will follow).
   */
  expect(id: string): () => void;
  /** Resolves when a write expected for `id` has arrived, or after `timeoutMs`. */
  settled(id: string, timeoutMs?: number): Promise<void>;
}

const newestFirst = (a: VideoRecord, b: VideoRecord) =>
  a.createdAt === b.createdAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : Date.parse(b.createdAt) - Date.parse(a.createdAt);

export function createRecordStore(): RecordStore {
  const records = new Map<string, VideoRecord | null>();
  const owners = new Map<string, Set<string>>();
  const expected = new Map<string, { until: number; waiters: Set<() => void> }>();
  let loaded = false;
  const release = (id: string) => {
    const e = expected.get(id);
    if (!e) return;
    expected.delete(id);
    for (const fn of e.waiters) fn();
  };
  return {
    get: (id) => records.get(id),
    byOwner(ownerId) {
      const out: VideoRecord[] = [];
      for (const id of owners.get(ownerId) ?? []) {
        const r = records.get(id);
        if (r) out.push(r);
      }
      return out.sort(newestFirst);
    },
    apply(id, record) {
      const before = records.get(id);
      if (before && before.ownerId !== record?.ownerId) owners.get(before.ownerId)?.delete(id);
      records.set(id, record);
      if (record) {
        const set = owners.get(record.ownerId) ?? new Set<string>();
        owners.set(record.ownerId, set);
        set.add(id);
      }
      release(id);
    },
    get loaded() {
      return loaded;
    },
    markLoaded() {
      loaded = true;
    },
    expect(id) {
      const e = expected.get(id) ?? { until: 0, waiters: new Set<() => void>() };
      e.until = Date.now() + OWN_WRITE_WAIT_MS;
      expected.set(id, e);
      return () => {
        if (expected.get(id) === e) release(id);
      };
    },
    settled(id, timeoutMs = OWN_WRITE_WAIT_MS) {
      const e = expected.get(id);
      if (!e) return Promise.resolve();
      if (e.until <= Date.now()) {
        expected.delete(id);
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          e.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(timeoutMs, e.until - Date.now()));
        e.waiters.add(done);
      });
    },
  };
}

/** The catalog's cursor (apps/catalog/src/queries.ts): the last item's (createdAt, id), base64url. */
const cursorOf = (r: VideoRecord) => Buffer.from(`${new Date(r.createdAt).toISOString()}|${r.id}`).toString('base64url');

/**
 * The catalog answered from memory, with the catalog's rules (someone else's private video, or a
 * deleted one, is not_found); what memory does not know — an id not heard of yet, search, status
 * filters, later pages — goes to `fallback` (the catalog over NATS).
 */
export function memoryCatalog(store: RecordStore, fallback: Catalog): Catalog {
  return {
    async get(id, viewer) {
      await store.settled(id);
      const r = store.get(id);
      if (r === undefined) {
        if (!isVideoId(id)) throw new QueryError('not_found', 'no such video');
        return fallback.get(id, viewer);
      }
      if (r === null || (r.visibility === 'private' && r.ownerId !== viewer)) throw new QueryError('not_found', 'no such video');
      return r;
    },
    // a visitor's list is one query to the catalog, which holds the order and the index for it
    listPublic: (query) => fallback.listPublic(query),
    async list(query) {
      if (!store.loaded || query.q || query.status || query.cursor) return fallback.list(query);
      const mine = store.byOwner(query.ownerId);
      const items = mine.slice(0, query.limit);
      const last = items.at(-1);
      return { items, nextCursor: mine.length > query.limit && last ? cursorOf(last) : null };
    },
  };
}

export interface ReadModel {
  store: RecordStore;
  close(): Promise<void>;
}

/**
 * Watches the record bucket into a store. Resolves once what the bucket held at start is in memory,
 * or after `loadTimeoutMs` (reads of what is missing then go to the catalog until the watch catches up).
 */
export async function openReadModel(nc: NatsConnection, opts: { replicas: number; log: Logger; loadTimeoutMs?: number }): Promise<ReadModel> {
  const kv = await new Kvm(nc).create(RECORD_BUCKET, { replicas: opts.replicas, history: 1 });
  const store = createRecordStore();
  let loadedResolve = () => {};
  const loadedOnce = new Promise<void>((r) => {
    loadedResolve = r;
  });
  const following = await followBucket(kv, {
    from: 'start',
    onEntry: (e) => store.apply(e.key, e.operation === 'PUT' ? e.json<VideoRecord>() : null),
    onLoaded: () => {
      store.markLoaded();
      loadedResolve();
    },
    log: opts.log,
  });
  const timeoutMs = opts.loadTimeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(true), timeoutMs);
  });
  if (await Promise.race([loadedOnce.then(() => false), timedOut]))
    opts.log.warn({ timeoutMs }, 'the read model is still loading: unknown ids go to the catalog');
  clearTimeout(timer);
  return {
    store,
    close: () => following.close(),
  };
}
