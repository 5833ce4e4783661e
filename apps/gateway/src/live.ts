import type { Envelope, Logger } from '@reel/events';
import { VIDEO_SUBJECTS } from '@reel/events';
import type { NatsConnection } from '@nats-io/transport-node';

export type LiveListener = (env: Envelope) => void;

/** Every video event as it is published, dispatched to listeners by video id (for SSE). */
export interface LiveFeed {
  listen(videoId: string, fn: LiveListener): () => void;
  close(): void;
}

/**
 * One plain NATS subscription on `video.>` per gateway (JetStream publishes are ordinary NATS
 * messages too), not one per open stream. Nothing is acknowledged: this is a view, not a consumer.
 */
export function createLiveFeed(nc: NatsConnection, log: Logger): LiveFeed {
  const listeners = new Map<string, Set<LiveListener>>();
  const sub = nc.subscribe(VIDEO_SUBJECTS, {
    callback: (err, msg) => {
      if (err) return log.warn({ err }, 'live feed error');
      let env: Envelope<{ videoId?: string }>;
      try {
        env = msg.json();
      } catch {
        return;
      }
      const set = env.data?.videoId ? listeners.get(env.data.videoId) : undefined;
      for (const fn of set ?? []) fn(env);
    },
  });
  return {
    listen(videoId, fn) {
      const set = listeners.get(videoId) ?? new Set();
      set.add(fn);
      listeners.set(videoId, set);
      return () => {
        set.delete(fn);
        if (set.size === 0) listeners.delete(videoId);
      };
    },
    close: () => sub.unsubscribe(),
  };
}
