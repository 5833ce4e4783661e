import { type Static, Type as T } from '@sinclair/typebox';
import { Probe, RenditionInfo, VideoId, Visibility } from './schemas.ts';
import { defineQuery } from './rpc.ts';

export const VideoStatus = T.Union([T.Literal('waiting_upload'), T.Literal('processing'), T.Literal('ready'), T.Literal('failed')]);
export type VideoStatus = Static<typeof VideoStatus>;

/** The catalog's record of a video; the gateway turns its object keys into URLs. */
export const VideoRecord = T.Object({
  id: VideoId,
  ownerId: T.String(),
  title: T.String(),
  description: T.String(),
  visibility: Visibility,
  status: VideoStatus,
  error: T.Optional(T.Object({ code: T.String(), stage: T.String(), message: T.String() })),
  progress: T.Optional(T.Object({ stage: T.String(), percent: T.Number() })),
  durationSec: T.Optional(T.Number()),
  source: T.Optional(Probe),
  /** Where the uploaded bytes are (what a retry starts from again). */
  sourceObject: T.Optional(T.Object({ bucket: T.String(), key: T.String(), size: T.Integer({ minimum: 0 }) })),
  /** The processing attempt shown (1, then one more per retry). */
  attempt: T.Optional(T.Integer({ minimum: 1 })),
  renditions: T.Optional(T.Array(RenditionInfo)),
  master: T.Optional(T.String()),
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
