import { type Static, Type as T } from '@sinclair/typebox';
import { Probe, RenditionInfo } from './schemas.ts';
import { defineQuery } from './rpc.ts';
import { VideoId, VideoStatus, Visibility } from '@reel/vocabulary';

/**
 * What the catalog records and the public API shows alike about a video (its words, where its
 * processing is, why it failed): the properties both object schemas spread in.
 */
export const videoStateFields = {
  title: T.String(),
  description: T.String(),
  visibility: Visibility,
  status: VideoStatus,
  error: T.Optional(T.Object({ code: T.String(), stage: T.String(), message: T.String() })),
  progress: T.Optional(T.Object({ stage: T.String(), percent: T.Number() })),
};

/** The catalog's record of a video; the gateway turns its object keys into URLs. */
export const VideoRecord = T.Object({
  id: VideoId,
  ownerId: T.String(),
  ...videoStateFields,
  durationSec: T.Optional(T.Number()),
  source: T.Optional(Probe),
  /** Where the uploaded bytes are (what a retry starts from again). */
  sourceObject: T.Optional(T.Object({ bucket: T.String(), key: T.String(), size: T.Integer({ minimum: 0 }) })),
  /** The processing attempt shown (1, then one more per retry). */
  attempt: T.Optional(T.Integer({ minimum: 1 })),
  renditions: T.Optional(T.Array(RenditionInfo)),
  master: T.Optional(T.String()),
  /** True once a player can start on `master` (an EVENT playlist while processing, VOD once ready). */
  playable: T.Optional(T.Literal(true)),
  /** Views counted (one per viewer per video per 30 minutes). */
  views: T.Optional(T.Integer({ minimum: 0 })),
  images: T.Optional(T.Object({ poster: T.String(), thumbnails: T.Array(T.String()), storyboard: T.String(), storyboardVtt: T.String() })),
  createdAt: T.String(),
  updatedAt: T.String(),
});
export type VideoRecord = Static<typeof VideoRecord>;

/** Reads one video as `viewer` sees it: their own, or a public one; otherwise `not_found`. */
export const getVideoQuery = defineQuery('reel.catalog.video.get', T.Object({ id: T.String({ maxLength: 64 }), viewer: T.Optional(T.String()) }), VideoRecord);

/** The owner's videos, newest first, with an opaque cursor. */
export const listVideosQuery = defineQuery(
  'reel.catalog.video.list',
  T.Object({
    ownerId: T.String({ minLength: 1 }),
    limit: T.Integer({ minimum: 1, maximum: 100 }),
    cursor: T.Optional(T.String({ maxLength: 200 })),
    q: T.Optional(T.String({ maxLength: 200 })),
    status: T.Optional(VideoStatus),
  }),
  T.Object({ items: T.Array(VideoRecord), nextCursor: T.Union([T.String(), T.Null()]) }),
);

/** The latest public videos (what a visitor sees), newest first, with an opaque cursor. */
export const listPublicVideosQuery = defineQuery(
  'reel.catalog.video.public',
  T.Object({ limit: T.Integer({ minimum: 1, maximum: 100 }), cursor: T.Optional(T.String({ maxLength: 200 })) }),
  T.Object({ items: T.Array(VideoRecord), nextCursor: T.Union([T.String(), T.Null()]) }),
);

/** The video events a webhook can subscribe to (all of them when none is named). */
export const WEBHOOK_EVENTS = ['video.uploaded', 'video.playable', 'video.ready', 'video.failed', 'video.updated', 'video.deleted'] as const;
export const WebhookEvent = T.Union(WEBHOOK_EVENTS.map((e) => T.Literal(e)));
export type WebhookEvent = Static<typeof WebhookEvent>;

/** An owner's webhook as listed (the secret is only in the creation answer). */
export const WebhookRecord = T.Object({
  id: T.String(),
  url: T.String(),
  events: T.Array(WebhookEvent),
  /** False once the receiver answered 410 Gone. */
  active: T.Boolean(),
  createdAt: T.String(),
});
export type WebhookRecord = Static<typeof WebhookRecord>;

export const WebhookDelivery = T.Object({
  id: T.String(),
  eventId: T.String(),
  type: T.String(),
  status: T.Union([T.Literal('delivered'), T.Literal('retrying'), T.Literal('failed')]),
  attempts: T.Integer({ minimum: 0 }),
  responseStatus: T.Union([T.Integer(), T.Null()]),
  lastAttemptAt: T.Union([T.String(), T.Null()]),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

/** Registers a webhook; `bad_request` for a URL the service will not call. */
export const createWebhookQuery = defineQuery(
  'reel.webhooks.create',
  T.Object({
    ownerId: T.String({ minLength: 1 }),
    url: T.String({ minLength: 1, maxLength: 2048 }),
    events: T.Optional(T.Array(WebhookEvent, { minItems: 1 })),
  }),
  T.Object({ id: T.String(), url: T.String(), events: T.Array(WebhookEvent), secret: T.String(), createdAt: T.String() }),
);

export const listWebhooksQuery = defineQuery(
  'reel.webhooks.list',
  T.Object({ ownerId: T.String({ minLength: 1 }) }),
  T.Object({ items: T.Array(WebhookRecord) }),
);

/** Removes the owner's webhook (and its deliveries); `not_found` for anyone else's. */
export const deleteWebhookQuery = defineQuery(
  'reel.webhooks.delete',
  T.Object({ ownerId: T.String({ minLength: 1 }), id: T.String({ maxLength: 64 }) }),
  T.Object({}),
);

/** The latest deliveries of the owner's webhook, newest first; `not_found` for anyone else's. */
export const listWebhookDeliveriesQuery = defineQuery(
  'reel.webhooks.deliveries',
  T.Object({ ownerId: T.String({ minLength: 1 }), id: T.String({ maxLength: 64 }) }),
  T.Object({ items: T.Array(WebhookDelivery) }),
);
