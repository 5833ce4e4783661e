import { getVideoQuery, healthQuery, listVideosQuery, request, type VideoRecord, type VideoStatus } from '@reel/events';
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
