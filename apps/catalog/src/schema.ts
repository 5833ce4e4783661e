import { index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { DerivedStatus, VideoState } from './fold.ts';

/**
 * The read model: one row per video holding the fold's state (`state`, the only source of what a
 * query shows) and the columns queries filter and sort on, derived from it. A deleted video keeps a
 * tombstone row (status `deleted`) so a late event cannot bring it back; a video whose owner is not
 * known yet (its created/uploaded event has not arrived) has no `owner_id`. Queries skip both.
 */
export const videos = pgTable(
  'videos',
  {
    id: uuid('id').primaryKey(),
    ownerId: text('owner_id'),
    title: text('title').notNull().default(''),
    description: text('description').notNull().default(''),
    visibility: text('visibility', { enum: ['private', 'unlisted', 'public'] })
      .notNull()
      .default('private'),
    status: text('status').$type<DerivedStatus>().notNull(),
    /** For a video waiting for its bytes: when the upload URL expires and the video is removed. */
    uploadExpiresAt: timestamp('upload_expires_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    state: jsonb('state').$type<VideoState>().notNull(),
  },
  (t) => [
    index('videos_owner_created_idx').on(t.ownerId, t.createdAt, t.id),
    index('videos_upload_expires_idx').on(t.uploadExpiresAt),
    // the visitors' list: public and ready, newest first
    index('videos_public_created_idx').on(t.visibility, t.status, t.createdAt, t.id),
  ],
);

/**
 * The views of each video: a grow-only set of `video.viewed` event ids, so a redelivered view is
 * counted once. The count (the set's size) is folded into the video's state; a deleted video's
 * views are removed with it. One row per counted view (the gateway counts one per viewer per
 * video per 30 minutes).
 */
export const videoViews = pgTable(
  'video_views',
  {
    videoId: uuid('video_id').notNull(),
    eventId: text('event_id').notNull(),
    viewedAt: timestamp('viewed_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.videoId, t.eventId] })],
);
