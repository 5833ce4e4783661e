import { type Static, Type as T } from '@sinclair/typebox';
import { MAX_TITLE_LENGTH, VideoId, Visibility } from './video.ts';

const Key = T.String({ minLength: 1, maxLength: 1024 });
const Stage = T.Union([T.Literal('upload'), T.Literal('ingest'), T.Literal('transcode'), T.Literal('thumbnails'), T.Literal('package'), T.Literal('catalog')]);
export type Stage = Static<typeof Stage>;

export const ObjectRef = T.Object({ bucket: T.String({ minLength: 1 }), key: Key });
export type ObjectRef = Static<typeof ObjectRef>;

/** What the owner says about a video, carried by the events that create it. */
const VideoMeta = {
  videoId: VideoId,
  ownerId: T.String({ minLength: 1, maxLength: 256 }),
  title: T.String({ maxLength: MAX_TITLE_LENGTH }),
  description: T.String({ maxLength: 5000 }),
  visibility: Visibility,
};

export const VideoUploadedV1 = T.Object({
  ...VideoMeta,
  source: T.Object({
    bucket: T.String({ minLength: 1 }),
    key: Key,
    size: T.Integer({ minimum: 0 }),
    filename: T.Optional(T.String({ maxLength: 512 })),
    contentType: T.Optional(T.String({ maxLength: 256 })),
  }),
  /** 1 for the first run; the owner's retry of a failed video publishes the next number. */
  attempt: T.Optional(T.Integer({ minimum: 1 })),
});

export const Probe = T.Object({
  durationSec: T.Number({ minimum: 0 }),
  width: T.Integer({ minimum: 1 }),
  height: T.Integer({ minimum: 1 }),
  /** Display size after rotation metadata is applied. */
  displayWidth: T.Integer({ minimum: 1 }),
  displayHeight: T.Integer({ minimum: 1 }),
  rotation: T.Integer(),
  fps: T.Number({ minimum: 0 }),
  videoCodec: T.String(),
  pixFmt: T.String(),
  bitrate: T.Integer({ minimum: 0 }),
  hasAudio: T.Boolean(),
  container: T.String(),
});
export type Probe = Static<typeof Probe>;

export const Rung = T.Object({
  name: T.String({ pattern: '^[a-z0-9]+$' }),
  width: T.Integer({ minimum: 2, multipleOf: 2 }),
  height: T.Integer({ minimum: 2, multipleOf: 2 }),
  videoBitrate: T.Integer({ minimum: 1 }),
  maxrate: T.Integer({ minimum: 1 }),
  bufsize: T.Integer({ minimum: 1 }),
  audioBitrate: T.Optional(T.Integer({ minimum: 1 })),
  fps: T.Number({ exclusiveMinimum: 0 }),
});
export type Rung = Static<typeof Rung>;

export const Chunk = T.Object({
  index: T.Integer({ minimum: 0 }),
  count: T.Integer({ minimum: 1 }),
  startSec: T.Number({ minimum: 0 }),
  durationSec: T.Number({ exclusiveMinimum: 0 }),
});
export type Chunk = Static<typeof Chunk>;

export const VideoIngestedV1 = T.Object({
  videoId: VideoId,
  source: ObjectRef,
  probe: Probe,
  ladder: T.Array(Rung, { minItems: 1 }),
  chunks: T.Array(Chunk, { minItems: 1 }),
  segmentSec: T.Number({ exclusiveMinimum: 0 }),
});

export const TranscodeRequestedV1 = T.Object({
  videoId: VideoId,
  source: ObjectRef,
  chunk: Chunk,
  ladder: T.Array(Rung, { minItems: 1 }),
  audio: T.Boolean(),
  segmentSec: T.Number({ exclusiveMinimum: 0 }),
});

export const Segment = T.Object({
  key: Key,
  durationSec: T.Number({ exclusiveMinimum: 0 }),
  bytes: T.Integer({ minimum: 0 }),
});
export type Segment = Static<typeof Segment>;

export const ChunkRendition = T.Object({
  rung: Rung,
  codecs: T.String(),
  segments: T.Array(Segment, { minItems: 1 }),
});
export type ChunkRendition = Static<typeof ChunkRendition>;

export const VideoTranscodedV1 = T.Object({
  videoId: VideoId,
  chunk: Chunk,
  renditions: T.Array(ChunkRendition, { minItems: 1 }),
  /** Key of this chunk's manifest in the media bucket (the packager reads the others' from there). */
  manifest: ObjectRef,
});

export const ThumbnailsCreatedV1 = T.Object({
  videoId: VideoId,
  bucket: T.String({ minLength: 1 }),
  poster: Key,
  thumbnails: T.Array(Key),
  storyboard: T.Object({ image: Key, vtt: Key, columns: T.Integer(), rows: T.Integer(), intervalSec: T.Number() }),
});

export const ProgressV1 = T.Object({
  videoId: VideoId,
  stage: Stage,
  percent: T.Number({ minimum: 0, maximum: 100 }),
});

export const PlayableV1 = T.Object({ videoId: VideoId, master: ObjectRef });

export const RenditionInfo = T.Object({
  name: T.String(),
  width: T.Integer(),
  height: T.Integer(),
  bandwidth: T.Integer({ minimum: 1 }),
  averageBandwidth: T.Integer({ minimum: 1 }),
  codecs: T.String(),
  frameRate: T.Number(),
  playlist: Key,
});
export type RenditionInfo = Static<typeof RenditionInfo>;

export const PackagedV1 = T.Object({
  videoId: VideoId,
  master: ObjectRef,
  durationSec: T.Number({ minimum: 0 }),
  renditions: T.Array(RenditionInfo, { minItems: 1 }),
});

/**
 * The catalog's announcement that a video plays and has what its page shows: published once per
 * processing attempt, when the derived status first turns `ready` (event id `<videoId>.ready.<attempt>`).
 */
export const ReadyV1 = T.Object({
  videoId: VideoId,
  ownerId: T.String({ minLength: 1, maxLength: 256 }),
  /** The processing attempt that became ready (1, or the owner's retry number). */
  attempt: T.Integer({ minimum: 1 }),
  durationSec: T.Number({ minimum: 0 }),
  /** Key of the HLS master playlist in the media bucket. */
  master: Key,
  renditions: T.Array(RenditionInfo, { minItems: 1 }),
  /** Key of the poster image, absent when thumbnails failed. */
  poster: T.Optional(Key),
});

export const FailedV1 = T.Object({
  videoId: VideoId,
  stage: Stage,
  code: T.String({ pattern: '^[a-z_]+$' }),
  message: T.String({ maxLength: 2000 }),
});

/** A video announced before its bytes: a direct (presigned) or resumable upload is under way. */
export const CreatedV1 = T.Object({
  ...VideoMeta,
  upload: T.Object({ method: T.Union([T.Literal('presigned'), T.Literal('tus')]), expiresAt: T.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T' }) }),
});

/** The owner changed what is shown about a video. */
export const UpdatedV1 = T.Object({
  videoId: VideoId,
  ownerId: T.String({ minLength: 1, maxLength: 256 }),
  title: T.Optional(T.String({ maxLength: MAX_TITLE_LENGTH })),
  description: T.Optional(T.String({ maxLength: 5000 })),
  visibility: T.Optional(Visibility),
});

export const DeletedV1 = T.Object({ videoId: VideoId, ownerId: T.String({ minLength: 1 }) });
