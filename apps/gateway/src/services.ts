import { getVideoQuery, healthQuery, isQueryError, listPublicVideosQuery, listVideosQuery, request, type VideoRecord, type VideoStatus } from '@reel/events';
import type { NatsConnection } from '@nats-io/transport-node';

/** One page of an owner's videos, newest first. */
export interface VideoPage {
  items: VideoRecord[];
  nextCursor: string | null;
}

export interface VideoListQuery {
  ownerId: string;
  limit: number;
  cursor?: string;
  q?: string;
  status?: VideoStatus;
}

/**
 * The catalog's read model as the gateway asks it. Errors are `QueryError`s: `not_found` (also for
 * someone else's private video), `unavailable` when nobody answers; errors.ts maps them to HTTP.
 */
export interface Catalog {
  /** The video as `viewer` (or an anonymous caller) may see it. */
  get(id: string, viewer?: string): Promise<VideoRecord>;
  list(query: VideoListQuery): Promise<VideoPage>;
  /** The latest public, ready videos (what a visitor sees on the page). */
  listPublic(query: { limit: number; cursor?: string }): Promise<VideoPage>;
}

/** Whether a service answers its liveness query in time. */
export interface Liveness {
  isUp(service: string, timeoutMs: number): Promise<boolean>;
}

/** The catalog over NATS request-reply: nothing to open or close, the connection is the runtime's. */
export function natsCatalog(nc: NatsConnection): Catalog {
  return {
    get: (id, viewer) => request(nc, getVideoQuery, { id, ...(viewer ? { viewer } : {}) }),
    list: (query) => request(nc, listVideosQuery, query),
    listPublic: (query) => request(nc, listPublicVideosQuery, query),
  };
}

/**
 * Read-your-writes over the catalog: a video announced on the bus a moment ago (the 202 of its
 * upload is out, the catalog has not projected it yet) is asked for again for up to `waitMs`
 * instead of answering 404; any other not_found is answered at once.
 */
export function readYourWrites(catalog: Catalog, announced: (id: string) => boolean, waitMs = 5000): Catalog {
  return {
    ...catalog,
    async get(id, viewer) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        try {
          return await catalog.get(id, viewer);
        } catch (err) {
          if (!isQueryError(err) || err.code !== 'not_found' || !announced(id) || Date.now() >= deadline) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
  };
}

export function natsLiveness(nc: NatsConnection): Liveness {
  return {
    isUp: (service, timeoutMs) =>
      request(nc, healthQuery(service), {}, { timeoutMs }).then(
        () => true,
        () => false,
      ),
  };
}
