import { index, jsonb, pgTable, real, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { Probe, RenditionInfo, VideoRecord } from '@reel/events';

/** The read model: one row per video, projected from the video events. */
export const videos = pgTable(
  'videos',
  {
    id: uuid('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    visibility: text('visibility', { enum: ['private', 'public'] }).notNull(),
    status: text('status', { enum: ['waiting_upload', 'processing', 'ready', 'failed'] }).notNull(),
    errorCode: text('error_code'),
    errorStage: text('error_stage'),
    errorMessage: text('error_message'),
    stage: text('stage'),
    percent: real('percent'),
    durationSec: real('duration_sec'),
    source: jsonb('source').$type<Probe>(),
    renditions: jsonb('renditions').$type<RenditionInfo[]>(),
    master: text('master'),
    images: jsonb('images').$type<NonNullable<VideoRecord['images']>>(),
    /** For a video waiting for its bytes: when the upload URL expires and the video is removed. */
    uploadExpiresAt: timestamp('upload_expires_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('videos_owner_created_idx').on(t.ownerId, t.createdAt, t.id), index('videos_upload_expires_idx').on(t.uploadExpiresAt)],
);

/** Every event id the projection has applied: a redelivered or duplicated event changes nothing. */
export const appliedEvents = pgTable('applied_events', {
  eventId: text('event_id').primaryKey(),
  subject: text('subject').notNull(),
  appliedAt: timestamp('applied_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
