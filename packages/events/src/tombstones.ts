import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { followBucket } from './follow.ts';
import type { Logger } from './logger.ts';

/** The KV bucket holding one key per deleted video. */
export const TOMBSTONE_BUCKET = 'VIDEO_TOMBSTONES';
/** The KV bucket holding each video's record as the catalog projected it (the gateways' read model). */
export const RECORD_BUCKET = 'VIDEO_RECORDS';

/** Work for a video that was deleted: nothing more may be written or published for it. */
export class VideoDeletedError extends Error {
  override name = 'VideoDeletedError';
  readonly videoId: string;
  constructor(videoId: string, options?: ErrorOptions) {
    super(`video ${videoId} was deleted`, options);
    this.videoId = videoId;
  }
}
export const isVideoDeletedError = (err: unknown): err is VideoDeletedError => err instanceof VideoDeletedError;

/**
 * Deleted videos, known to every service at once. A `video.deleted` event reaches each consumer
 * in its own time (after a backlog, after retries); the tombstone is written before that event is
 * published and watched into memory everywhere, so a worker stops at its next step instead.
 */
export interface Tombstones {
  /** Records the deletion (idempotent). The publisher calls it before publishing `video.deleted`. */
  mark(videoId: string): Promise<void>;
  /** From memory: true once the tombstone has reached this process. */
  has(videoId: string): boolean;
  /** Throws VideoDeletedError if the video is deleted (memory first, then the bucket itself). */
  assertAlive(videoId: string): Promise<void>;
  /** Calls `fn` for every video deleted from now on; returns the unsubscribe function. */
  onMark(fn: (videoId: string) => void): () => void;
  close(): Promise<void>;
}

/** Opens (creating when missing) the tombstone bucket and follows it into memory. */
export async function openTombstones(nc: NatsConnection, opts: { replicas?: number; log?: Logger } = {}): Promise<Tombstones> {
  const kv: KV = await new Kvm(nc).create(TOMBSTONE_BUCKET, { replicas: opts.replicas ?? 1, history: 1 });
  const deleted = new Set<string>();
  const listeners = new Set<(videoId: string) => void>();
  const add = (videoId: string) => {
    if (deleted.has(videoId)) return;
    deleted.add(videoId);
    for (const fn of listeners) {
      try {
        fn(videoId);
      } catch (err) {
        opts.log?.error({ err, videoId }, 'tombstone listener failed');
      }
    }
  };
  // updates first, then what is already there: nothing marked in between is missed
  const following = await followBucket(kv, {
    from: 'now',
    onEntry: (e) => {
      if (e.operation === 'PUT') add(e.key);
    },
    log: opts.log,
  });
  for await (const key of await kv.keys()) deleted.add(key);

  return {
    async mark(videoId) {
      await kv.put(videoId, String(Date.now()));
      add(videoId);
    },
    has: (videoId) => deleted.has(videoId),
    async assertAlive(videoId) {
      if (deleted.has(videoId)) throw new VideoDeletedError(videoId);
      const e = await kv.get(videoId);
      if (e?.operation === 'PUT') {
        add(videoId);
        throw new VideoDeletedError(videoId);
      }
    },
    onMark(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async close() {
      await following.close();
    },
  };
}
