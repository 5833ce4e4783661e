import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { LIVE_STREAM, LIVE_SUBJECTS, streamOf, VIDEO_STREAM, VIDEO_SUBJECTS, WORK_ITEMS, WORK_STREAM } from './contract.ts';

const NS = 1_000_000;

export interface StreamOptions {
  /** JetStream replicas: 1 on one machine, 3 on a cluster. */
  replicas?: number;
  /** How long events are kept, in days (the stream is the platform's history, not its state). */
  maxAgeDays?: number;
  /** Window in which a repeated event id is dropped. */
  duplicateWindowMs?: number;
}

/**
 * Creates or updates the platform's streams: VIDEO (the facts, kept `maxAgeDays`), WORK (the
 * work items, work-queue retention: a message lives until a worker acknowledges or gives it up)
 * and LIVE (progress chatter, in memory for a minute).
 * Idempotent: every service calls it at start, so the first one up creates them and the others
 * find them.
 */
export async function ensureVideoStream(nc: NatsConnection, opts: StreamOptions = {}): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  const common = {
    storage: StorageType.File,
    num_replicas: opts.replicas ?? 1,
    max_age: (opts.maxAgeDays ?? 30) * 24 * 3600 * 1000 * NS,
    duplicate_window: (opts.duplicateWindowMs ?? 10 * 60_000) * NS,
    max_msg_size: 1024 * 1024,
  };
  await ensureStream(jsm, { ...common, name: VIDEO_STREAM, subjects: [VIDEO_SUBJECTS], retention: RetentionPolicy.Limits });
  await ensureStream(jsm, { ...common, name: WORK_STREAM, subjects: [...WORK_ITEMS], retention: RetentionPolicy.Workqueue });
  // progress ticks: nothing to keep; the catalog folds the latest, SSE shows them as they come.
  // On file, not in memory: a memory stream (and the consumers on it) is gone when NATS restarts,
  // and nothing would create it again until the services restart
  const minute = 60_000 * NS;
  await ensureStream(
    jsm,
    { ...common, name: LIVE_STREAM, subjects: [LIVE_SUBJECTS], retention: RetentionPolicy.Limits, max_age: minute, duplicate_window: minute / 6 },
    { disposable: true },
  );
  for (const r of RETIRED_CONSUMERS) {
    await jsm.consumers.delete(r.stream, r.durable).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }
  return jsm;
}

/**
 * Durable consumers an earlier version made and nothing reads any more, removed at start so no
 * backlog piles up for them: `thumbnails` (images now come from the chunk encodes).
 */
const RETIRED_CONSUMERS = [{ stream: VIDEO_STREAM, durable: 'thumbnails' }] as const;

type StreamSettings = { name: string; subjects: string[]; retention: RetentionPolicy; storage: StorageType } & Record<
  'num_replicas' | 'max_age' | 'duplicate_window' | 'max_msg_size',
  number
>;

/**
 * Creates the stream, or updates the settings that differ. Its storage cannot be changed in place:
 * a `disposable` stream (chatter) is deleted and created again; another one is left as it is.
 */
async function ensureStream(jsm: JetStreamManager, config: StreamSettings, opts: { disposable?: boolean } = {}): Promise<void> {
  const c = await jsm.streams.info(config.name).then(
    (info) => info.config,
    (err: unknown) => {
      if (!isNotFound(err)) throw err;
      return undefined;
    },
  );
  if (c && (c.storage === config.storage || !opts.disposable)) {
    if (
      c.max_age !== config.max_age ||
      c.duplicate_window !== config.duplicate_window ||
      c.num_replicas !== config.num_replicas ||
      c.subjects.join(' ') !== config.subjects.join(' ')
    ) {
      const { storage: _kept, ...settings } = config;
      await jsm.streams.update(config.name, { ...c, ...settings });
    }
    return;
  }
  if (c) {
    await jsm.streams.delete(config.name).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }
  try {
    await jsm.streams.add(config);
  } catch (addErr) {
    // another service created it at the same moment
    if (!hasApiCode(addErr, STREAM_NAME_IN_USE)) throw addErr;
  }
}

/** JetStream's JSStreamNameExistErr, which @nats-io/jetstream does not name in JetStreamApiCodes. */
const STREAM_NAME_IN_USE = 10058;

const hasApiCode = (err: unknown, ...codes: number[]): boolean => err instanceof JetStreamApiError && codes.includes(err.code);

/** The stream or the consumer asked about does not exist. */
export const isNotFound = (err: unknown): boolean => hasApiCode(err, JetStreamApiCodes.StreamNotFound, JetStreamApiCodes.ConsumerNotFound);

export interface ConsumerSpec {
  /** Durable name: one per (service, subject); replicas of a service share it. */
  durable: string;
  /** One subject or a wildcard such as `video.>` (NATS 2.9 allows one filter per consumer). */
  filter: string;
  ackWaitMs?: number;
  maxDeliver?: number;
  /** Messages in flight across all replicas of the service. */
  maxAckPending?: number;
}

/** Creates or updates a durable pull consumer on the stream of its filter (streamOf). Idempotent. */
export async function ensureConsumer(jsm: JetStreamManager, spec: ConsumerSpec): Promise<void> {
  const config = {
    durable_name: spec.durable,
    filter_subject: spec.filter,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: (spec.ackWaitMs ?? 30_000) * NS,
    max_deliver: spec.maxDeliver ?? 5,
    max_ack_pending: spec.maxAckPending ?? 1000,
  };
  const stream = streamOf(spec.filter);
  try {
    const info = await jsm.consumers.info(stream, spec.durable);
    const c = info.config;
    if (
      c.ack_wait !== config.ack_wait ||
      c.max_deliver !== config.max_deliver ||
      c.max_ack_pending !== config.max_ack_pending ||
      c.filter_subject !== config.filter_subject
    ) {
      await jsm.consumers.update(stream, spec.durable, config);
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.consumers.add(stream, config);
  }
}

/** JetStream's JSClusterNoPeersErrF: a cluster still forming has no peers to place a replicated stream on. */
const NO_PEERS_FOR_PLACEMENT = 10005;

/**
 * A refusal that passes on its own while a JetStream cluster forms or elects a leader: no peers to
 * place on yet, "temporarily unavailable" (503), or an API request that timed out.
 */
export const isJetStreamStarting = (err: unknown): boolean =>
  err instanceof JetStreamApiError ? err.status === 503 || err.code === NO_PEERS_FOR_PLACEMENT : (err as Error | undefined)?.name === 'TimeoutError';
