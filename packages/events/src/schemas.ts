import { type Static, Type as T } from '@sinclair/typebox';
import { MAX_TITLE_LENGTH, VideoId, Visibility } from '@reel/vocabulary';

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

/** The renditions a video is encoded into, largest first. */
const Ladder = T.Array(Rung, { minItems: 1 });
/** Length of an HLS segment, a whole multiple of the forced keyframe interval (checked by the transcoder). */
const SegmentSec = T.Number({ exclusiveMinimum: 0 });
/** The processing attempt (video.uploaded's `attempt`; absent: the first). */
const Attempt = T.Optional(T.Integer({ minimum: 1 }));

export const VideoIngestedV1 = T.Object({
  videoId: VideoId,
  source: ObjectRef,
  probe: Probe,
  ladder: Ladder,
  chunks: T.Array(Chunk, { minItems: 1 }),
  segmentSec: SegmentSec,
});

/** A frame size in pixels. */
const Size = { width: T.Integer({ minimum: 2 }), height: T.Integer({ minimum: 2 }) };

/**
 * Storyboard tiles `first … first + count - 1` of a video (tile k shows the frame at k × intervalSec),
 * in one sprite, `columns` to a row, left to right, top to bottom.
 */
const Tiles = {
  first: T.Integer({ minimum: 0 }),
  count: T.Integer({ minimum: 1, maximum: 100 }),
  columns: T.Integer({ minimum: 1, maximum: 100 }),
  intervalSec: T.Number({ exclusiveMinimum: 0 }),
  tileWidth: T.Integer({ minimum: 2 }),
  tileHeight: T.Integer({ minimum: 2 }),
};

/**
 * The images a chunk's encode makes from the same decode, beside its rungs: the poster if its time
 * falls in the chunk, the thumbnails that do, the storyboard tiles that do. Times are on the
 * video's own time line (seconds from its first frame); each image is the first frame at or after its time.
 */
export const ChunkImagesPlan = T.Object({
  poster: T.Optional(T.Object({ atSec: T.Number({ minimum: 0 }), ...Size })),
  thumbnails: T.Array(T.Object({ index: T.Integer({ minimum: 0, maximum: 99 }), atSec: T.Number({ minimum: 0 }) }), { maxItems: 100 }),
  thumbnailSize: T.Object(Size),
  storyboard: T.Optional(T.Object(Tiles)),
});
export type ChunkImagesPlan = Static<typeof ChunkImagesPlan>;

/** The images a chunk's encode stored (what its plan asked for and ffmpeg found a frame for). */
export const ChunkImages = T.Object({
  poster: T.Optional(Key),
  thumbnails: T.Array(T.Object({ index: T.Integer({ minimum: 0 }), key: Key })),
  storyboard: T.Optional(T.Object({ key: Key, ...Tiles })),
});
export type ChunkImages = Static<typeof ChunkImages>;

export const TranscodeRequestedV1 = T.Object({
  videoId: VideoId,
  source: ObjectRef,
  chunk: Chunk,
  ladder: Ladder,
  /** True when this item's rungs carry the source's audio in-band (a one-chunk video). */
  audio: T.Boolean(),
  segmentSec: SegmentSec,
  /** True when the audio is its own work item (work.audio.requested) and the packager waits for it. */
  audioGroup: T.Optional(T.Boolean()),
  /** The poster, thumbnails and storyboard tiles this chunk makes from its own decode. */
  images: T.Optional(ChunkImagesPlan),
  attempt: Attempt,
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

/**
 * What a finished chunk is: its renditions' segments and the images it made. The transcoder stores
 * it as the chunk's manifest (chunk-manifest.ts) and announces it in video.transcoded.
 */
export const ChunkDone = {
  chunk: Chunk,
  renditions: T.Array(ChunkRendition, { minItems: 1 }),
  /** Copied from the work item: the video's audio travels as its own rendition group. */
  audioGroup: T.Optional(T.Boolean()),
  /** The images this chunk stored (planned by the work item's `images`). */
  images: T.Optional(ChunkImages),
  /** Copied from the work item: the packager's announcements carry it in their ids. */
  attempt: Attempt,
};

export const VideoTranscodedV1 = T.Object({
  videoId: VideoId,
  ...ChunkDone,
  /** Key of this chunk's manifest in the media bucket (the packager reads the others' from there). */
  manifest: ObjectRef,
});

/**
 * Work item: the source's audio, encoded once for the whole video into one HLS audio rendition
 * (`EXT-X-MEDIA TYPE=AUDIO`) that every rung shares, so chunk joins never cut an AAC stream.
 */
export const AudioRequestedV1 = T.Object({
  videoId: VideoId,
  source: ObjectRef,
  bitrate: T.Integer({ minimum: 8000 }),
  segmentSec: SegmentSec,
  durationSec: T.Number({ minimum: 0 }),
});

export const AudioRendition = T.Object({
  codecs: T.String(),
  bitrate: T.Integer({ minimum: 1 }),
  segments: T.Array(Segment, { minItems: 1 }),
  /** False while the encode runs: the segments stored so far, from the start (a video plays before its audio is done). */
  complete: T.Boolean(),
});
export type AudioRendition = Static<typeof AudioRendition>;

/**
 * The audio rendition is stored, its first segments (`complete: false`, published once, as soon
 * as there are any) or all of it; with its manifest's key for the packager.
 */
export const AudioTranscodedV1 = T.Object({
  videoId: VideoId,
  ...AudioRendition.properties,
  manifest: ObjectRef,
});

export const ThumbnailsCreatedV1 = T.Object({
  videoId: VideoId,
  bucket: T.String({ minLength: 1 }),
  poster: Key,
  thumbnails: T.Array(Key),
  storyboard: T.Object({
    /** The first sprite (the only one of a video made in one piece). */
    image: Key,
    vtt: Key,
    /** Tiles per sprite row and rows per sprite. */
    columns: T.Integer(),
    rows: T.Integer(),
    intervalSec: T.Number(),
    /** Every sprite the VTT names, in order: one per chunk of a video cut into chunks. */
    sprites: T.Optional(T.Array(Key, { minItems: 1 })),
  }),
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

/**
 * A view counted by the gateway: one per viewer per video per 30 minutes. `viewer` is an opaque
 * keyed hash (of the user id, or of an anonymous caller's address and user agent), never the identity.
 */
export const ViewedV1 = T.Object({
  videoId: VideoId,
  ownerId: T.String({ minLength: 1, maxLength: 256 }),
  viewer: T.String({ pattern: '^[0-9a-f]{32}$' }),
});
