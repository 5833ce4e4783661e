import { type KV, type KvWatchEntry, KvWatchInclude } from '@nats-io/kv';
import type { Logger } from './logger.ts';

export interface FollowOptions {
  /** `start`: what the bucket holds now (its latest value per key), then every change; `now`: changes from now on. */
  from: 'start' | 'now';
  /** Called for each entry, in revision order; a throw is logged and the entry skipped. */
  onEntry(entry: KvWatchEntry): void;
  /** `from: 'start'`: called once what the bucket held at start has been delivered. */
  onLoaded?(): void;
  log?: Logger;
  /** How often the bucket's head is compared with the last revision delivered. */
  checkMs?: number;
}

export interface Following {
  /** How many times the watch was made again after it stalled or ended. */
  readonly restarts: number;
  close(): Promise<void>;
}

/**
 * A bucket followed into memory, healing itself. A KV watch is an ordered consumer of one replica:
 * when the cluster node holding it dies, nats.js does not make it again, and the watch goes silent
 * while the bucket keeps changing (found by the cluster test; the same fault is reported against
 * nats.go, nats.deno and nats.rs). So every `checkMs` the bucket's last sequence is compared with
 * the last revision delivered: behind at two checks in a row with nothing delivered in between, or
 * the watch ended, and a new watch resumes from the next revision. Nothing is missed or repeated.
 */
export async function followBucket(kv: KV, opts: FollowOptions): Promise<Following> {
  const checkMs = opts.checkMs ?? 1000;
  const status = await kv.status();
  // `now` starts after what is there; `start` delivers from the beginning
  let last = opts.from === 'now' ? status.streamInfo.state.last_seq : 0;
  let loaded = opts.from === 'now';
  const markLoaded = () => {
    if (loaded) return;
    loaded = true;
    opts.onLoaded?.();
  };
  if (status.values === 0) markLoaded();

  let delivered = false;
  let ended = false;
  let closed = false;
  let restarts = 0;
  // each watch's loop knows its generation: a stopped one that ends late does not mark the next ended
  let generation = 0;
  const follow = (watch: AsyncIterable<KvWatchEntry>, mine = ++generation) =>
    (async () => {
      for await (const e of watch) {
        if (e.revision <= last) continue;
        last = e.revision;
        delivered = true;
        try {
          opts.onEntry(e);
        } catch (err) {
          opts.log?.error({ err, key: e.key, bucket: e.bucket }, 'an unreadable entry was skipped');
        }
        if (!loaded && (e.delta === 0 || e.isUpdate)) markLoaded();
      }
    })().then(
      () => {
        if (mine === generation) ended = !closed;
      },
      (err: unknown) => {
        if (mine === generation) ended = !closed;
        opts.log?.warn({ err, bucket: status.bucket }, 'the bucket watch ended; following again');
      },
    );

  // `now` resumes after the head read above, so nothing written since is missed
  let watch = await kv.watch(opts.from === 'now' ? { resumeFromRevision: last + 1 } : { include: KvWatchInclude.LastValue });
  let following = follow(watch);

  let behind = false;
  let checking = false;
  const check = async () => {
    if (checking || closed) return;
    checking = true;
    try {
      const head = (await kv.status()).streamInfo.state.last_seq;
      const stalled = head > last && behind && !delivered;
      behind = head > last;
      delivered = false;
      if (!stalled && !ended) return;
      opts.log?.warn({ bucket: status.bucket, head, last, ended }, 'the bucket watch stalled; following again from the next revision');
      watch.stop();
      // a watch on a dead node may not end promptly: wait a little, then go on without it
      await Promise.race([following, new Promise((r) => setTimeout(r, checkMs * 2).unref())]);
      if (closed) return;
      watch = await kv.watch({ resumeFromRevision: last + 1 });
      ended = false;
      behind = false;
      restarts++;
      following = follow(watch);
    } catch (err) {
      // NATS unreachable or electing a leader: the next check tries again
      opts.log?.debug({ err, bucket: status.bucket }, 'bucket check failed');
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), checkMs);
  timer.unref();

  return {
    get restarts() {
      return restarts;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      watch.stop();
      await following;
    },
  };
}
