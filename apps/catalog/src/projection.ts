import { and, eq, isNotNull, ne, or } from 'drizzle-orm';
import { type Envelope, type HandlerMap, Subjects } from '@reel/events';
import { SpanKind, withSpan } from '@reel/telemetry/span';
import type { Db } from './db.ts';
import { appliedEvents, videos } from './schema.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * Applies `change` and records the event id in one transaction; an event already recorded
 * (a redelivery, a duplicate) is skipped, so every event changes the read model at most once.
 */
async function once(db: Db, env: Envelope, change: (tx: Tx, at: Date) => Promise<unknown>): Promise<void> {
  await withSpan(
    `postgres project ${env.type}`,
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.operation.name': 'TRANSACTION', 'db.collection.name': 'videos' } },
    async (span) => {
      await db.transaction(async (tx) => {
        const inserted = await tx.insert(appliedEvents).values({ eventId: env.id, subject: env.type }).onConflictDoNothing().returning();
        span.setAttribute('reel.catalog.duplicate', inserted.length === 0);
        if (inserted.length === 0) return;
        await change(tx, new Date(env.occurredAt));
      });
    },
  );
}

const notFinal = ne(videos.status, 'ready');

/**
 * A video is ready once it is packaged and its images are made (or their making failed: a video
 * that plays is not held back for want of a poster). Called after each event that adds a part.
 */
function promote(tx: Tx, videoId: string, at: Date) {
  return tx
    .update(videos)
    .set({ status: 'ready', stage: null, percent: 100, updatedAt: at })
    .where(
      and(eq(videos.id, videoId), eq(videos.status, 'processing'), isNotNull(videos.master), or(isNotNull(videos.images), eq(videos.errorStage, 'thumbnails'))),
    );
}

/** One projection per subject: a subject without one is a compile error. */
export function createProjection(db: Db): HandlerMap {
  return {
    [Subjects.created]: (d, { envelope }) =>
      once(db, envelope, (tx, at) =>
        tx
          .insert(videos)
          .values({
            id: d.videoId,
            ownerId: d.ownerId,
            title: d.title,
            description: d.description,
            visibility: d.visibility,
            status: 'waiting_upload',
            uploadExpiresAt: new Date(d.upload.expiresAt),
            createdAt: at,
            updatedAt: at,
          })
          .onConflictDoNothing(),
      ),
    [Subjects.updated]: (d, { envelope }) =>
      once(db, envelope, (tx, at) =>
        tx
          .update(videos)
          .set({
            ...(d.title !== undefined ? { title: d.title } : {}),
            ...(d.description !== undefined ? { description: d.description } : {}),
            ...(d.visibility !== undefined ? { visibility: d.visibility } : {}),
            updatedAt: at,
          })
          .where(and(eq(videos.id, d.videoId), eq(videos.ownerId, d.ownerId))),
      ),
    [Subjects.uploaded]: (d, { envelope }) =>
      once(db, envelope, (tx, at) =>
        tx
          .insert(videos)
          .values({
            id: d.videoId,
            ownerId: d.ownerId,
            title: d.title,
            description: d.description,
            visibility: d.visibility,
            status: 'processing',
            stage: 'ingest',
            percent: 0,
            createdAt: at,
            updatedAt: at,
          })
          .onConflictDoUpdate({
            target: videos.id,
            set: { status: 'processing', stage: 'ingest', percent: 0, uploadExpiresAt: null, updatedAt: at },
            where: eq(videos.status, 'waiting_upload'),
          }),
      ),
    [Subjects.ingested]: (d, { envelope }) =>
      once(db, envelope, (tx, at) =>
        tx
          .update(videos)
          .set({ source: d.probe, durationSec: d.probe.durationSec, stage: 'transcode', percent: 0, updatedAt: at })
          .where(and(eq(videos.id, d.videoId), eq(videos.status, 'processing'))),
      ),
    [Subjects.transcodeRequested]: async () => {},
    [Subjects.transcoded]: async () => {},
    [Subjects.progress]: (d, { envelope }) =>
      once(db, envelope, (tx, at) =>
        tx
          .update(videos)
          .set({ stage: d.stage, percent: d.percent, updatedAt: at })
          .where(and(eq(videos.id, d.videoId), eq(videos.status, 'processing'))),
      ),
    [Subjects.thumbnailsCreated]: (d, { envelope }) =>
      once(db, envelope, async (tx, at) => {
        await tx
          .update(videos)
          .set({
            images: { poster: d.poster, thumbnails: d.thumbnails, storyboard: d.storyboard.image, storyboardVtt: d.storyboard.vtt },
            updatedAt: at,
          })
          .where(eq(videos.id, d.videoId));
        await promote(tx, d.videoId, at);
      }),
    [Subjects.playable]: async () => {},
    [Subjects.packaged]: (d, { envelope }) =>
      once(db, envelope, async (tx, at) => {
        await tx
          .update(videos)
          .set({
            master: d.master.key,
            renditions: d.renditions,
            durationSec: d.durationSec,
            stage: 'thumbnails',
            updatedAt: at,
          })
          .where(and(eq(videos.id, d.videoId), eq(videos.status, 'processing')));
        await promote(tx, d.videoId, at);
      }),
    [Subjects.failed]: (d, { envelope }) =>
      once(db, envelope, async (tx, at) => {
        // thumbnails are extras: a video that plays is ready without them
        const failsVideo = d.stage !== 'thumbnails';
        await tx
          .update(videos)
          .set({
            ...(failsVideo ? { status: 'failed' as const, stage: null } : {}),
            errorCode: d.code,
            errorStage: d.stage,
            errorMessage: d.message,
            updatedAt: at,
          })
          .where(failsVideo ? and(eq(videos.id, d.videoId), notFinal) : eq(videos.id, d.videoId));
        if (!failsVideo) await promote(tx, d.videoId, at);
      }),
    [Subjects.deleted]: (d, { envelope }) => once(db, envelope, (tx) => tx.delete(videos).where(eq(videos.id, d.videoId))),
  };
}
