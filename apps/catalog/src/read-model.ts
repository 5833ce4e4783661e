import { type KV, Kvm } from '@nats-io/kv';
import { type Logger, RECORD_BUCKET, type VideoRecord } from '@reel/events';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Db } from './db.ts';
import { toRecord, type VideoState } from './fold.ts';
import { videos } from './schema.ts';

/**
 * Writes a video's record where the gateways read it: the KV bucket RECORD_BUCKET, keyed by video
 * id, which every gateway replica watches into memory (apps/gateway/src/read-model.ts). A deleted
 * video is a delete marker, so a watcher forgets it at once.
 */
export interface RecordPublisher {
  /** The state as a query would show it: the record, a delete for a tombstone, nothing while the owner is not known. */
  publish(state: VideoState): Promise<void>;
}

const encoder = new TextEncoder();

export function recordPublisher(kv: KV): RecordPublisher {
  return {
    async publish(state) {
      const record: VideoRecord | undefined = toRecord(state);
      if (record) await kv.put(state.videoId, encoder.encode(JSON.stringify(record)));
      else if (state.deleted) await kv.delete(state.videoId);
    },
  };
}

/** Opens (creating when missing) the record bucket; history 1: only the latest record matters. */
export async function openRecordBucket(nc: NatsConnection, replicas: number): Promise<KV> {
  return new Kvm(nc).create(RECORD_BUCKET, { replicas, history: 1 });
}

/**
 * Fills an empty bucket from Postgres (a catalog that ran before the bucket existed, or a bucket
 * that was lost): run before the projection starts, so nothing newer is overwritten.
 */
export async function backfillRecords(kv: KV, db: Db, log: Logger): Promise<void> {
  const status = await kv.status();
  if (status.values > 0) return;
  const publisher = recordPublisher(kv);
  const rows = await db.select({ state: videos.state }).from(videos);
  for (const row of rows) await publisher.publish(row.state);
  if (rows.length) log.info({ videos: rows.length }, 'read model filled from the database');
}
