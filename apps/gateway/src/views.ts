import { createHmac } from 'node:crypto';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** A viewer's views of one video count once per this window. */
export const VIEW_WINDOW_MS = 30 * 60 * 1000;
/** The JetStream key-value bucket that remembers who was counted, for VIEW_WINDOW_MS. */
export const VIEWS_BUCKET = 'VIEWS_SEEN';

/**
 * Which views count: the first of a viewer for a video, then none for VIEW_WINDOW_MS. `viewer` is
 * already an opaque hash (viewerKey). Returns whether this view is counted.
 */
export interface ViewCounter {
  count(videoId: string, viewer: string, now?: number): Promise<boolean>;
}

/**
 * The opaque key of a viewer: a keyed hash of the user id, or of an anonymous caller's address and
 * user agent, so neither travels on the bus nor can be recovered from the event. 32 hex characters.
 */
export function viewerKey(secret: string, who: { userId?: string | undefined; ip: string; userAgent?: string | undefined }): string {
  const id = who.userId ? `u:${who.userId}` : `a:${who.ip}|${who.userAgent ?? ''}`;
  return createHmac('sha256', `reel-views:${secret}`).update(id).digest('hex').slice(0, 32);
}

/**
 * In the memory of one gateway: enough for one replica (and the tests). With several replicas
 * behind a balancer a viewer may be counted once per replica per window; the NATS one is shared.
 * Bounded: past `max` remembered viewers the oldest are forgotten (and may count again).
 */
export function memoryViewCounter(max = 100_000): ViewCounter {
  const seen = new Map<string, number>();
  return {
    async count(videoId, viewer, now = Date.now()) {
      const key = `${videoId}.${viewer}`;
      const until = seen.get(key);
      if (until !== undefined && until > now) return false;
      seen.delete(key);
      // insertion order is expiry order (one window for all): drop what expired, then the oldest past max
      for (const [k, u] of seen) {
        if (u > now && seen.size < max) break;
        seen.delete(k);
      }
      seen.set(key, now + VIEW_WINDOW_MS);
      return true;
    },
  };
}

const WRONG_LAST_SEQUENCE = new Set([10071, 10164]);

/**
 * Shared by every replica: a key per (video, viewer) in a bucket whose entries expire after
 * VIEW_WINDOW_MS; `create` succeeds for exactly one caller while the key lives (a compare-and-set
 * on JetStream), so the first view counts on whichever replica it lands.
 */
export async function natsViewCounter(nc: NatsConnection, replicas: number): Promise<ViewCounter> {
  const kv = await new Kvm(nc).create(VIEWS_BUCKET, { ttl: VIEW_WINDOW_MS, history: 1, replicas });
  return {
    async count(videoId, viewer) {
      try {
        await kv.create(`${videoId}.${viewer}`, '');
        return true;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (WRONG_LAST_SEQUENCE.has(code as number) || /wrong last sequence/i.test((err as Error).message)) return false;
        throw err;
      }
    },
  };
}
