import { isDeepStrictEqual } from 'node:util';
import { count, eq } from 'drizzle-orm';
import { type Envelope, type EventData, type Handler, type HandlerMap, type Publisher, RetryableError, type Subject, Subjects } from '@reel/events';
import { SpanKind, withSpan } from '@reel/telemetry/span';
import type { Db } from './db.ts';
import { isConnectionError } from './db-health.ts';
import { evolve, readyEventId, readyOf, statusOf, type VideoState, withViews } from './fold.ts';
import type { RecordPublisher } from './read-model.ts';
import { videoViews, videos } from './schema.ts';

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

export interface Projected {
  outcome: 'changed' | 'unchanged';
  /** The video's `video.ready` announcement, when the row is ready (and its owner known) after this event. */
  ready?: EventData<typeof Subjects.ready>;
  /** True when this event is the one that made the row ready (for this attempt). */
  becameReady: boolean;
}

/**
 * Folds one event into its video's row: the row is locked, its state folded and written back in
 * one transaction, so concurrent deliveries (replicas, concurrency) serialize per video. The fold
 * makes any order and any repetition give the same row; an event that changes nothing writes nothing.
 */
export async function project(db: Db, env: Envelope, onState?: (state: VideoState) => Promise<void>): Promise<Projected> {
  const videoId = (env.data as { videoId: string }).videoId;
  if (env.type === Subjects.viewed) return countView(db, env, onState);
  return withSpan(
    `postgres project ${env.type}`,
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.operation.name': 'TRANSACTION', 'db.collection.name': 'videos' } },
    async (span) => {
      const result = await db.transaction(async (tx): Promise<Projected> => {
        // two attempts: a first event of a video may race another one's insert of the row
        for (let i = 0; i < 2; i++) {
          const [row] = await tx.select({ state: videos.state }).from(videos).where(eq(videos.id, videoId)).for('update');
          const next = evolve(row?.state, env);
          const ready = next && readyOf(next);
          // a deleted video's views go with it (a later view of it is dropped: countView)
          if (env.type === Subjects.deleted) await tx.delete(videoViews).where(eq(videoViews.videoId, videoId));
          if (!next || (row && isDeepStrictEqual(row.state, next))) {
            // written again even when unchanged: a gateway waiting to read its own write learns it is there
            if (row && onState) await onState(row.state);
            return { outcome: 'unchanged', ready, becameReady: false };
          }
          const before = row && readyOf(row.state);
          const becameReady = Boolean(ready && (!before || readyEventId(before) !== readyEventId(ready)));
          const values = toRow(next);
          if (row) {
            await tx.update(videos).set(values).where(eq(videos.id, videoId));
            // under the row lock: the read model is written in the order the states are
            await onState?.(next);
            return { outcome: 'changed', ready, becameReady };
          }
          const inserted = await tx.insert(videos).values(values).onConflictDoNothing().returning({ id: videos.id });
          if (inserted.length) {
            await onState?.(next);
            return { outcome: 'changed', ready, becameReady };
          }
        }
        throw new Error(`video ${videoId}: the row could not be locked`);
      });
      span.setAttribute('reel.catalog.changed', result.outcome === 'changed');
      return result;
    },
  );
}

/**
 * A view joins the video's set of view events (a repeat is no new member), and the set's size goes
 * into the video's state: any order and any repetition of the views give the same count. A view of
 * a deleted video is dropped (its set went with it); one of a video whose row is not there yet is kept
 * in the set and counted with the next view.
 */
async function countView(db: Db, env: Envelope, onState?: (state: VideoState) => Promise<void>): Promise<Projected> {
  const videoId = (env.data as { videoId: string }).videoId;
  const unchanged: Projected = { outcome: 'unchanged', becameReady: false };
  return withSpan(
    'postgres project video.viewed',
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.operation.name': 'TRANSACTION', 'db.collection.name': 'video_views' } },
    () =>
      db.transaction(async (tx): Promise<Projected> => {
        const viewedAt = new Date(Number.isFinite(Date.parse(env.occurredAt)) ? env.occurredAt : 0);
        const [row] = await tx.select({ state: videos.state }).from(videos).where(eq(videos.id, videoId)).for('update');
        if (row?.state.deleted) return unchanged;
        const added = await tx.insert(videoViews).values({ videoId, eventId: env.id, viewedAt }).onConflictDoNothing().returning({ id: videoViews.eventId });
        if (!added.length || !row) return unchanged;
        const [counted] = await tx.select({ n: count() }).from(videoViews).where(eq(videoViews.videoId, videoId));
        const next = withViews(row.state, counted?.n ?? 0);
        if (next === row.state) return unchanged;
        await tx.update(videos).set({ state: next }).where(eq(videos.id, videoId));
        await onState?.(next);
        return { outcome: 'changed', becameReady: false };
      }),
  );
}

/**
 * Every subject goes through the one fold (it ignores what it has no use for). When an event makes
 * a video ready, `video.ready` is published after the commit, with the id `<videoId>.ready.<attempt>`
 * so JetStream's duplicate window drops a repeat. A failed publish fails the handler: its
 * redelivery finds the row already ready (the fold makes the repeat harmless) and publishes again
 * under the same id. `onConnectionError` tells the consumer's gate that the database just went away.
 */
export function createProjection(db: Db, opts: { publisher: Publisher; onConnectionError?: () => void; records?: RecordPublisher }): Partial<HandlerMap> {
  const onState = opts.records && ((state: VideoState) => (opts.records as RecordPublisher).publish(state));
  const handler: Handler<Subject> = async (_data, { envelope, deliveryCount, log }) => {
    let projected: Projected;
    try {
      projected = await project(db, envelope, onState);
    } catch (err) {
      // a database outage is waited out (consume's gate stops pulling meanwhile), never a failure of the video
      if (isConnectionError(err)) {
        opts.onConnectionError?.();
        throw new RetryableError('the catalog database is unavailable', { cause: err });
      }
      throw err;
    }
    const { ready, becameReady } = projected;
    // a redelivery may follow a publish that failed after the commit: announce again, under the same id
    if (ready && (becameReady || deliveryCount > 1)) {
      const res = await opts.publisher.publish(Subjects.ready, ready, { id: readyEventId(ready) });
      log.info({ eventId: res.id, duplicate: res.duplicate, attempt: ready.attempt }, 'video ready announced');
    }
  };
  // video.ready is this handler's own output: the consumer acknowledges it unread
  const folded = Object.values(Subjects).filter((s) => s !== Subjects.ready);
  return Object.fromEntries(folded.map((s) => [s, handler])) as Partial<HandlerMap>;
}
