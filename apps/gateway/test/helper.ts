// The gateway on fakes, for app.inject tests (fastify/demo's test/helper.ts): an in-memory
// catalog, a publisher that records, storage in a Map, HS256 auth with a test secret. No server,
// no NATS, no S3: a test builds the app, injects requests, and reads what the fakes saw.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type EventData, type Publisher, QueryError, type Subject, type VideoRecord } from '@reel/events';
import { createLogger, loadConfig } from '@reel/runtime';
import { mintToken } from '@reel/token';
import { type Storage, StorageUnavailableError } from '@reel/storage';
import { until } from '@reel/testing';
import { buildGateway, type GatewayApp } from '../src/app.ts';
import { configSpec } from '../src/config.ts';
import type { LiveFeed, LiveListener } from '../src/live.ts';
import { createAuthenticator } from '../src/plugins/auth.ts';
import { createPlayback } from '../src/playback.ts';
import type { Catalog, Liveness } from '../src/services.ts';

export const TEST_SECRET = 'inject-test-secret-at-least-32-characters-long';
export const BASE_URL = 'http://gateway.test';

/** A video record with sensible defaults. */
export function video(id: string, ownerId: string, extra: Partial<VideoRecord> = {}): VideoRecord {
  const at = '2026-01-01T00:00:00.000Z';
  return { id, ownerId, title: 't', description: '', visibility: 'private', status: 'processing', createdAt: at, updatedAt: at, ...extra };
}

export interface Published {
  subject: string;
  data: unknown;
  id: string | undefined;
}

/** Everything the fakes hold and saw; a test arranges `records`, `objects` and `down`, and reads the rest. */
export interface World {
  /** The catalog's records by id. */
  records: Map<string, VideoRecord>;
  /** Stored objects by `bucket/key`. */
  objects: Map<string, string>;
  published: Published[];
  /** Catalog queries in order: `get <id>` or `list <ownerId>`. */
  queries: string[];
  /** Listeners the live feed holds, by video id. */
  listeners: Map<string, Set<LiveListener>>;
  down: { catalog: boolean; publisher: boolean; storage: boolean; services: Set<string> };
}

const unavailable = () => new QueryError('unavailable', 'no answer');

function fakeCatalog(w: World): Catalog {
  return {
    async get(id, viewer) {
      w.queries.push(`get ${id}`);
      if (w.down.catalog) throw unavailable();
      const v = w.records.get(id);
      // someone else's private video does not exist for the caller (the catalog's rule)
      if (!v || (v.visibility === 'private' && v.ownerId !== viewer)) throw new QueryError('not_found', `no video ${id}`);
      return structuredClone(v);
    },
    async list({ ownerId, limit, status, q }) {
      w.queries.push(`list ${ownerId}`);
      if (w.down.catalog) throw unavailable();
      const mine = [...w.records.values()]
        .filter((v) => v.ownerId === ownerId && (!status || v.status === status) && (!q || v.title.includes(q)))
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      return { items: mine.slice(0, limit), nextCursor: mine.length > limit ? `after-${limit}` : null };
    },
    async listPublic({ limit }) {
      w.queries.push('list public');
      if (w.down.catalog) throw unavailable();
      const shown = [...w.records.values()]
        .filter((v) => v.visibility === 'public' && v.status === 'ready')
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      return { items: shown.slice(0, limit), nextCursor: shown.length > limit ? `after-${limit}` : null };
    },
  };
}

function fakePublisher(w: World): Publisher {
  return {
    async publish<K extends Subject>(subject: K, data: EventData<K>, opts: { id?: string } = {}) {
      // what nats.js throws while NATS is down (errors.ts answers 503)
      if (w.down.publisher) throw Object.assign(new Error('timeout'), { name: 'TimeoutError' });
      w.published.push({ subject, data, id: opts.id });
      return { id: opts.id ?? `e${w.published.length}`, seq: w.published.length, duplicate: false };
    },
  };
}

/** The calls of Storage the gateway's routes make, on a Map. */
function fakeStorage(w: World): Storage {
  const at = (bucket: string, key: string) => `${bucket}/${key}`;
  const up = () => {
    if (w.down.storage) throw new StorageUnavailableError('storage is down (fake)');
  };
  const fake: Partial<Storage> = {
    sourceBucket: 'reel-sources',
    mediaBucket: 'reel-media',
    async putStream(bucket, key, body) {
      up();
      const chunks: Buffer[] = [];
      await pipeline(
        body,
        new Writable({
          write(c: Buffer, _e, cb) {
            chunks.push(c);
            cb();
          },
        }),
      );
      const bytes = Buffer.concat(chunks);
      w.objects.set(at(bucket, key), bytes.toString('latin1'));
      return bytes.length;
    },
    async getText(bucket, key) {
      up();
      const text = w.objects.get(at(bucket, key));
      if (text === undefined) throw Object.assign(new Error('no such key'), { code: 'NoSuchKey' });
      return text;
    },
    async size(bucket, key) {
      up();
      return w.objects.get(at(bucket, key))?.length;
    },
    async copy(bucket, from, to) {
      up();
      const text = w.objects.get(at(bucket, from));
      if (text !== undefined) w.objects.set(at(bucket, to), text);
    },
    async remove(bucket, key) {
      up();
      w.objects.delete(at(bucket, key));
    },
    async removePrefix(bucket, prefix) {
      up();
      let n = 0;
      for (const k of w.objects.keys()) if (k.startsWith(at(bucket, prefix)) && w.objects.delete(k)) n++;
      return n;
    },
    async presignGet(bucket, key, ttlSec) {
      return `https://s3.test/${bucket}/${key}?ttl=${ttlSec}`;
    },
    async presignPut(bucket, key, ttlSec, size) {
      up();
      return `https://s3.test/${bucket}/${key}?put&ttl=${ttlSec}&size=${size}`;
    },
  };
  // the calls it does not have are not made by the gateway's routes
  return fake as Storage;
}

function fakeLive(w: World): LiveFeed {
  return {
    listen(videoId, fn) {
      const set = w.listeners.get(videoId) ?? new Set();
      set.add(fn);
      w.listeners.set(videoId, set);
      return () => set.delete(fn);
    },
    announced: () => false,
    close() {},
  };
}

const fakeLiveness = (w: World): Liveness => ({ isUp: async (service) => !w.down.services.has(service) });

export interface Harness {
  app: GatewayApp;
  world: World;
  /** `{ authorization: 'Bearer …' }` for `sub`. */
  as(sub: string): Promise<{ authorization: string }>;
  /** A valid playback token for a video. */
  playbackToken(id: string, scope?: 'owner' | 'public'): string;
}

/** The gateway on fakes, with `env` over the defaults; closed by `teardown`. */
export async function build(teardown: (fn: () => Promise<void>) => void, env: Record<string, string> = {}): Promise<Harness> {
  const config = loadConfig(configSpec, { AUTH_JWT_SECRET: TEST_SECRET, S3_ENDPOINT: 'http://127.0.0.1:9', PUBLIC_URL: BASE_URL, LOG_LEVEL: 'silent', ...env });
  const world: World = {
    records: new Map(),
    objects: new Map(),
    published: [],
    queries: [],
    listeners: new Map(),
    down: { catalog: false, publisher: false, storage: false, services: new Set() },
  };
  const storage = fakeStorage(world);
  const playback = createPlayback({ secret: TEST_SECRET, ttlSec: 3600, storage, baseUrl: BASE_URL });
  const app = await buildGateway({
    config,
    log: createLogger('gateway', 'silent'),
    publisher: fakePublisher(world),
    storage,
    auth: createAuthenticator({ secret: TEST_SECRET }),
    playback,
    catalog: fakeCatalog(world),
    liveness: fakeLiveness(world),
    live: fakeLive(world),
  });
  teardown(() => app.close());
  return {
    app,
    world,
    as: async (sub) => ({ authorization: `Bearer ${await mintToken(TEST_SECRET, sub, 600)}` }),
    playbackToken: (id, scope = 'owner') => playback.token(id, Date.now(), scope),
  };
}

/** The live listener a stream of video `id` holds, once it has subscribed (the request runs on its own). */
export const listenerOf = (world: World, id: string): Promise<LiveListener> =>
  until(`a live listener of ${id}`, () => [...(world.listeners.get(id) ?? [])][0], { everyMs: 5 });

/** The API's error body. */
export const errorOf = (body: string) => (JSON.parse(body) as { error: { code: string; message: string } }).error;
