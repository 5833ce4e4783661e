import { decodeEnvelope, type Envelope, LIVE_SUBJECTS, type Logger, registry, Subjects, VIDEO_SUBJECTS } from '@reel/events';
import type { NatsConnection } from '@nats-io/transport-node';

export type LiveListener = (env: Envelope) => void;

/** Every video event as it is published, dispatched to listeners by video id (for SSE). */
export interface LiveFeed {
  listen(videoId: string, fn: LiveListener): () => void;
  /**
   * Whether the video was announced (created or uploaded) on the bus a moment ago: the catalog may
   * not have recorded it yet, so a not_found for it is not the last word (read-your-writes).
   */
  announced(videoId: string): boolean;
  close(): void;
}

/** How long an announcement counts: far longer than the catalog takes to record a video. */
const ANNOUNCED_FOR_MS = 60_000;
const ANNOUNCING = new Set<string>([Subjects.created, Subjects.uploaded]);

/** The video an event is about, if it is a valid event of the contract; anything else on the bus is dropped. */
function videoEvent(subject: string, data: Uint8Array): { env: Envelope; videoId: string } | undefined {
  try {
    const env = decodeEnvelope(registry, subject, data);
    const payload: unknown = env.data;
    const videoId = payload && typeof payload === 'object' && 'videoId' in payload ? payload.videoId : undefined;
    return typeof videoId === 'string' ? { env, videoId } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One plain NATS subscription on `video.>` per gateway (JetStream publishes are ordinary NATS
 * messages too), not one per open stream. Nothing is acknowledged: this is a view, not a consumer.
 * Its callback never throws: an exception there stops the NATS client's read loop, and with it
 * every query and publish of the gateway. Whatever is on the bus is checked against the contract
 * first (not JSON, `null`, an array, a number, wrong types: dropped), and a listener's failure is
 * its own.
 */
export function createLiveFeed(nc: NatsConnection, log: Logger): LiveFeed {
  const listeners = new Map<string, Set<LiveListener>>();
  /** Video id → when its announcement stops counting; insertion order is expiry order. */
  const announcements = new Map<string, number>();
  const announce = (videoId: string) => {
    const now = Date.now();
    announcements.delete(videoId);
    announcements.set(videoId, now + ANNOUNCED_FOR_MS);
    for (const [id, until] of announcements) {
      if (until > now) break;
      announcements.delete(id);
    }
  };
  let dropped = 0;
  const callback = (err: Error | null, msg: { subject: string; data: Uint8Array }) => {
    try {
      if (err) return log.warn({ err }, 'live feed error');
      const announcing = ANNOUNCING.has(msg.subject);
      if (!listeners.size && !announcing) return; // nobody is watching: nothing to decode
      const ev = videoEvent(msg.subject, msg.data);
      if (!ev) {
        // a foreign or broken producer: say so now and then, not per message
        if (dropped++ % 1000 === 0) log.warn({ subject: msg.subject, bytes: msg.data.length, dropped }, 'live feed: not a valid event; dropped');
        return;
      }
      if (announcing) announce(ev.videoId);
      for (const fn of listeners.get(ev.videoId) ?? []) {
        try {
          fn(ev.env);
        } catch (e) {
          log.warn({ err: e, videoId: ev.videoId }, 'live feed listener failed');
        }
      }
    } catch (e) {
      log.error({ err: e }, 'live feed callback failed');
    }
  };
  // the facts, and the progress chatter (live.>) that is not kept as history
  const subs = [VIDEO_SUBJECTS, LIVE_SUBJECTS].map((subject) => nc.subscribe(subject, { callback }));
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
    announced: (videoId) => (announcements.get(videoId) ?? 0) > Date.now(),
    close: () => {
      for (const sub of subs) sub.unsubscribe();
    },
  };
}
