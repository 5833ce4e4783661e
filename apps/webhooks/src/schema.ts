import { index, integer, jsonb, pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/** The webhooks service's own tables, in a Postgres schema of their own: no other service reads them. */
export const webhooksSchema = pgSchema('webhooks');

/**
 * An owner's endpoint. The secret is stored as is: it must be at hand to sign every delivery
 * (an HMAC needs the key itself), and it never leaves this service after the creation answer.
 */
export const endpoints = webhooksSchema.table(
  'endpoints',
  {
    id: uuid('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    url: text('url').notNull(),
    events: jsonb('events').$type<string[]>().notNull(),
    secret: text('secret').notNull(),
    /** Set when the receiver answered 410 Gone: nothing more is sent to it. */
    disabledAt: timestamp('disabled_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('endpoints_owner_idx').on(t.ownerId, t.createdAt)],
);

/** Who owns each video, from the events that name the owner (video.playable and video.failed do not). */
export const videoOwners = webhooksSchema.table('video_owners', {
  videoId: uuid('video_id').primaryKey(),
  ownerId: text('owner_id').notNull(),
});

export type DeliveryStatus = 'delivered' | 'retrying' | 'failed';

/** One event for one endpoint: the body is kept as sent so every attempt signs the same bytes. */
export const deliveries = webhooksSchema.table(
  'deliveries',
  {
    id: uuid('id').primaryKey(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => endpoints.id, { onDelete: 'cascade' }),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    body: text('body').notNull(),
    status: text('status').$type<DeliveryStatus>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    responseStatus: integer('response_status'),
    lastError: text('last_error'),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true, mode: 'date' }),
    /** When a `retrying` delivery is due; a sender pushes it ahead while it works on it (a lease). */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('deliveries_webhook_event_idx').on(t.webhookId, t.eventId),
    index('deliveries_due_idx').on(t.status, t.nextAttemptAt),
    index('deliveries_webhook_created_idx').on(t.webhookId, t.createdAt),
  ],
);
