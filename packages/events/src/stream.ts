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
import { VIDEO_STREAM, VIDEO_SUBJECTS } from './contract.ts';

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
 * Creates or updates the video event stream. Idempotent: every service calls it at start,
 * so the first one up creates it and the others find it.
 */
export async function ensureVideoStream(nc: NatsConnection, opts: StreamOptions = {}): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: VIDEO_STREAM,
    subjects: [VIDEO_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: opts.replicas ?? 1,
    max_age: (opts.maxAgeDays ?? 30) * 24 * 3600 * 1000 * NS,
    duplicate_window: (opts.duplicateWindowMs ?? 10 * 60_000) * NS,
    max_msg_size: 1024 * 1024,
  };
  try {
    const info = await jsm.streams.info(VIDEO_STREAM);
    const c = info.config;
    if (c.max_age !== config.max_age || c.duplicate_window !== config.duplicate_window || c.num_replicas !== config.num_replicas) {
      await jsm.streams.update(VIDEO_STREAM, { ...c, ...config });
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await jsm.streams.add(config);
    } catch (addErr) {
      // another service created it at the same moment
      if (!hasApiCode(addErr, STREAM_NAME_IN_USE)) throw addErr;
    }
  }
  return jsm;
}

/** JetStream's JSStreamNameExistErr, which @nats-io/jetstream does not name in JetStreamApiCodes. */
const STREAM_NAME_IN_USE = 10058;

const hasApiCode = (err: unknown, ...codes: number[]): boolean => err instanceof JetStreamApiError && codes.includes(err.code);

const isNotFound = (err: unknown): boolean => hasApiCode(err, JetStreamApiCodes.StreamNotFound, JetStreamApiCodes.ConsumerNotFound);

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

/** Creates or updates a durable pull consumer on the video stream. Idempotent. */
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
  try {
    const info = await jsm.consumers.info(VIDEO_STREAM, spec.durable);
    const c = info.config;
    if (
      c.ack_wait !== config.ack_wait ||
      c.max_deliver !== config.max_deliver ||
      c.max_ack_pending !== config.max_ack_pending ||
      c.filter_subject !== config.filter_subject
    ) {
      await jsm.consumers.update(VIDEO_STREAM, spec.durable, config);
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.consumers.add(VIDEO_STREAM, config);
  }
}
