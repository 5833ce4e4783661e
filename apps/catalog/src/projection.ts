import { isDeepStrictEqual } from 'node:util';
import { eq } from 'drizzle-orm';
import { type Envelope, type Handler, type HandlerMap, RetryableError, type Subject, Subjects } from '@reel/events';
import { SpanKind, withSpan } from '@reel/telemetry/span';
import type { Db } from './db.ts';
import { isConnectionError } from './db-health.ts';
import { evolve, statusOf, type VideoState } from './fold.ts';
import { videos } from './schema.ts';

type Row = typeof videos.$inferInsert;

/** The columns queries filter and sort on, derived from the state (which alone says what is shown). */
export function toRow(s: VideoState): Row {
  const status = statusOf(s);
  const at = s.origin?.at ?? s.updatedAt ?? s.deleted?.at ?? new Date(0).toISOString();
  return {
    id: s.videoId,
    ownerId: status === 'deleted' ? null : (s.origin?.value.ownerId ?? null),
    title: s.title?.value ?? '',
    description: s.description?.value ?? '',
    visibility: s.visibility?.value ?? 'private',
    status,
    uploadExpiresAt: status === 'waiting_upload' && s.uploadExpiresAt ? new Date(s.uploadExpiresAt.value) : null,
    createdAt: new Date(at),
    updatedAt: new Date(s.updatedAt ?? at),
    state: s,
  };
}

/**
 * Folds one event into its video's row: the row is locked, its state folded and written back in
 * one transaction, so concurrent deliveries (replicas, concurrency) serialize per video. The fold
 * makes any order and any repetition give the same row; an event that changes nothing writes nothing.
 */
export async function project(db: Db, env: Envelope): Promise<'changed' | 'unchanged'> {
  const videoId = (env.data as { videoId: string }).videoId;
  return withSpan(
    `postgres project ${env.type}`,
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.operation.name': 'TRANSACTION', 'db.collection.name': 'videos' } },
    async (span) => {
      const outcome = await db.transaction(async (tx) => {
        // two attempts: a first event of a video may race another one's insert of the row
        for (let i = 0; i < 2; i++) {
          const [row] = await tx.select({ state: videos.state }).from(videos).where(eq(videos.id, videoId)).for('update');
          const next = evolve(row?.state, env);
          if (!next || (row && isDeepStrictEqual(row.state, next))) return 'unchanged' as const;
          const values = toRow(next);
          if (row) {
            await tx.update(videos).set(values).where(eq(videos.id, videoId));
            return 'changed' as const;
          }
          const inserted = await tx.insert(videos).values(values).onConflictDoNothing().returning({ id: videos.id });
          if (inserted.length) return 'changed' as const;
        }
        throw new Error(`video ${videoId}: the row could not be locked`);
      });
      span.setAttribute('reel.catalog.changed', outcome === 'changed');
      return outcome;
    },
  );
}

/**
 * Every subject goes through the one fold (it ignores what it has no use for). `onConnectionError`
 * tells the consumer's gate that the database just went away.
 */
export function createProjection(db: Db, opts: { onConnectionError?: () => void } = {}): HandlerMap {
  const handler: Handler<Subject> = async (_data, { envelope }) => {
    try {
      await project(db, envelope);
    } catch (err) {
      // a database outage is waited out (consume's gate stops pulling meanwhile), never a failure of the video
      if (isConnectionError(err)) {
        opts.onConnectionError?.();
        throw new RetryableError('the catalog database is unavailable', { cause: err });
      }
      throw err;
    }
  };
  return Object.fromEntries(Object.values(Subjects).map((s) => [s, handler])) as HandlerMap;
}
