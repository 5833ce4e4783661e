import { type Logger, type Publisher, Subjects } from '@reel/events';
import type { Storage } from '@reel/storage';
import type { NatsConnection } from '@nats-io/transport-node';
import fp from 'fastify-plugin';
import { createLiveFeed, type LiveFeed } from '../live.ts';
import type { Playback } from '../playback.ts';
import { memoryCatalog, openReadModel, type RecordStore } from '../read-model.ts';
import { type Catalog, type Liveness, natsCatalog, natsLiveness, readYourWrites } from '../services.ts';
import { startUploadSweeper } from '../upload-sweeper.ts';
import { memoryViewCounter, natsViewCounter, type ViewCounter } from '../views.ts';

declare module 'fastify' {
  interface FastifyInstance {
    catalog: Catalog;
    liveness: Liveness;
    storage: Storage;
    publisher: Publisher;
    live: LiveFeed;
    playback: Playback;
    /** Which views count (one per viewer per video per 30 minutes). */
    views: ViewCounter;
    /** The catalog's records held in memory (null when the catalog is given, as in tests with fakes). */
    readModel: RecordStore | null;
  }
}

/** What the services are reached through: given ones (tests pass fakes), or built on NATS. */
interface ServicesOptions {
  nc?: NatsConnection | undefined;
  catalog?: Catalog | undefined;
  liveness?: Liveness | undefined;
}

const needNats = (what: string) => new Error(`the gateway needs ${what} or a NATS connection to build one`);

/**
 * `app.catalog` and `app.liveness`. Built on NATS, the catalog is the read model watched into memory
 * (closed with the app), falling back to request-reply queries for what memory does not answer.
 */
/**
 * Replicas of the JetStream streams and buckets the gateway creates: the runtime loads
 * NATS_STREAM_REPLICAS with every app's config; the gateway's own spec does not name it.
 */
export const streamReplicas = (config: object): number => (config as { NATS_STREAM_REPLICAS?: number }).NATS_STREAM_REPLICAS ?? 1;

export const servicesPlugin = fp(
  async (app, opts: ServicesOptions) => {
    let catalog = opts.catalog;
    let store: RecordStore | null = null;
    if (!catalog && opts.nc) {
      const replicas = streamReplicas(app.config);
      const queries = natsCatalog(opts.nc);
      try {
        const readModel = await openReadModel(opts.nc, { replicas, log: app.log });
        app.addHook('onClose', () => readModel.close());
        store = readModel.store;
        catalog = memoryCatalog(store, queries);
      } catch (err) {
        // without JetStream's bucket every read is a query: slower, never wrong
        app.log.warn({ err }, 'the read model could not be opened; reads go to the catalog');
        catalog = queries;
      }
    }
    const liveness = opts.liveness ?? (opts.nc ? natsLiveness(opts.nc) : undefined);
    if (!catalog) throw needNats('a catalog');
    if (!liveness) throw needNats('a liveness probe');
    // the live feed is decorated after this plugin: looked up when a read happens
    app.decorate(
      'catalog',
      // memory that knows the video (a record, or its deletion) has said the last word: no wait
      readYourWrites(catalog, (id) => app.live.announced(id) && store?.get(id) === undefined),
    );
    app.decorate('liveness', liveness);
    app.decorate('readModel', store);
  },
  { name: 'reel-services' },
);

/**
 * `app.live`: the feed of video events for SSE. One built here (one NATS subscription) is
 * unsubscribed when the app closes; a given one belongs to the caller.
 */
export const livePlugin = fp(
  async (app, opts: { live?: LiveFeed | undefined; nc?: NatsConnection | undefined; log: Logger }) => {
    if (opts.live) return void app.decorate('live', opts.live);
    if (!opts.nc) throw needNats('a live feed');
    const live = createLiveFeed(opts.nc, opts.log);
    app.decorate('live', live);
    app.addHook('onClose', async () => live.close());
  },
  { name: 'reel-live-feed' },
);

/** Sweeping the stale multipart uploads a dead gateway left (server.ts turns it on; tests do not). */
export interface SweepOptions {
  intervalMs: number;
  olderThanMs: number;
}

/** `app.storage`, and the stale-upload sweeper if asked for, stopped (its running sweep awaited) on close. */
export const storagePlugin = fp(
  async (app, opts: { storage: Storage; log: Logger; sweep?: SweepOptions | undefined }) => {
    app.decorate('storage', opts.storage);
    if (!opts.sweep) return;
    const sweeper = startUploadSweeper({ storage: opts.storage, log: opts.log, ...opts.sweep });
    app.addHook('onClose', () => sweeper.stop());
  },
  { name: 'reel-storage' },
);

/**
 * `app.publisher`: the runtime's, which drains it on shutdown after the app has closed. A change
 * published here makes this replica's reads of that video wait (bounded) for the catalog's record
 * of it: the owner reads their own write.
 */
export const publisherPlugin = fp(
  async (app, opts: { publisher: Publisher }) => {
    const store = app.readModel;
    if (!store) return void app.decorate('publisher', opts.publisher);
    const publisher: Publisher = {
      ...opts.publisher,
      async publish(subject, data, o) {
        const videoId = subject === Subjects.viewed ? undefined : (data as { videoId?: unknown }).videoId;
        // (a view changes nothing its viewer reads back: no wait for it)
        // expected before the publish: the catalog's record may arrive before the publish returns
        const cancel = typeof videoId === 'string' ? store.expect(videoId) : undefined;
        try {
          const res = await opts.publisher.publish(subject, data, o);
          if (res.duplicate) cancel?.();
          return res;
        } catch (err) {
          cancel?.();
          throw err;
        }
      },
    };
    app.decorate('publisher', publisher);
  },
  { name: 'reel-publisher' },
);

/** `app.playback`: the playback link signer (pure: nothing to close). */
export const playbackPlugin = fp(async (app, opts: { playback: Playback }) => void app.decorate('playback', opts.playback), { name: 'reel-playback' });

/**
 * `app.views`: a given counter (tests), else the NATS key-value one shared by every replica, else
 * (no JetStream) one in this replica's memory, which counts a viewer once per replica.
 */
export const viewsPlugin = fp(
  async (app, opts: { views?: ViewCounter | undefined; nc?: NatsConnection | undefined }) => {
    if (opts.views || !opts.nc) return void app.decorate('views', opts.views ?? memoryViewCounter());
    const replicas = streamReplicas(app.config);
    try {
      app.decorate('views', await natsViewCounter(opts.nc, replicas));
    } catch (err) {
      app.log.warn({ err }, 'the views bucket could not be opened; views are counted per replica');
      app.decorate('views', memoryViewCounter());
    }
  },
  { name: 'reel-views' },
);
