/**
 * The catalog's read model of one video as a pure fold: `evolve(state, event) → state`, and the
 * record derived from the state. Events of a video arrive in any order and any number of times
 * (redelivery after a nak or a backoff reorders them), so every rule below gives the SAME state for
 * any order and any repetition of the same events:
 *
 * - The state holds facts, each with the stamp of the event that told it: `at` (occurredAt, as UTC
 *   ISO) and the event `id`. Stamps are ordered by `at`, then `id` (then the value, so even two
 *   different facts with one stamp order the same way). A fact keeps the newest (or, where said,
 *   the earliest) of its events: a max under a total order, so order and repetition do not matter
 *   and no applied-event ids need keeping.
 * - `video.deleted` makes a tombstone: every other fact is dropped, and no later event changes it
 *   (a repeated delete keeps the earliest). A tombstone is never shown.
 * - The owner and `createdAt` come from the earliest `video.created`/`video.uploaded`. A video whose
 *   created/uploaded has not arrived yet still gathers facts, but is not shown until they do.
 * - Title, description, visibility: each field from the newest of created, uploaded and updated
 *   that carries it. (The gateway checks ownership before it publishes `video.updated`.)
 * - `video.uploaded` comes once per processing attempt (`attempt` 1, 2, … on the owner's retry,
 *   with a later occurredAt): the upload with the highest attempt (then newest stamp) is current;
 *   it gives `attempt` and `sourceObject`. A failure older than the current upload no longer
 *   counts; one at the same instant or newer does.
 * - Status, derived (never stored as a fact):
 *     deleted → `deleted` (a tombstone, not a status a query answers);
 *     master (video.packaged) and (images, or a thumbnails failure that counts) → `ready`:
 *       a video that plays is ready even if something failed around it (a late duplicate worker,
 *       the catalog's own given-up delivery), since nothing runs after packaging;
 *     a failure of a stage other than thumbnails that counts → `failed`, with its code, stage and message;
 *     uploaded, or any processing fact (probe, master, images, progress) → `processing`;
 *     only created → `waiting_upload`.
 * - Progress: the newest of the progress ticks and of the stage each milestone starts (uploaded →
 *   ingest, ingested → transcode, packaged → thumbnails, each at 0 %); shown only while processing.
 * - A thumbnails failure is shown as the error of a processing or ready video without images.
 * - Playable: `video.playable` (the packager's first playlists, an EVENT playlist growing until
 *   video.packaged ends it) makes a processing video `playable` with its master; it counts unless a
 *   later attempt started after it (like a failure), and a packaged video is always playable. A
 *   failed video is not shown as playable.
 * - `durationSec` from video.packaged, else from the probe. `updatedAt` is the newest occurredAt of
 *   every event folded (before the tombstone).
 * - `video.ready` (which the catalog derives from this state), a subject the fold does not know, an event of another video or
 *   one with an unreadable occurredAt leaves the state as it is.
 * - `video.viewed` is not folded here: views are a grow-only set of event ids kept beside the state
 *   (projection.ts, table video_views), and `withViews` puts its size in the state. A set's size
 *   does not depend on order or repetition either; a view does not move `updatedAt`.
 */
import { type Envelope, type EventData, type Probe, type RenditionInfo, Subjects, type VideoRecord, type VideoStatus, type Visibility } from '@reel/events';

/** Which event told a fact, and when: the total order every "newest" and "earliest" below uses. */
export interface Stamp {
  readonly at: string;
  readonly id: string;
}
export interface Fact<T> extends Stamp {
  readonly value: T;
}

export interface Failure {
  readonly stage: string;
  readonly code: string;
  readonly message: string;
}
export type Images = NonNullable<VideoRecord['images']>;

export interface VideoState {
  /** Shape version of the stored state. */
  readonly v: 1;
  readonly videoId: string;
  readonly deleted?: Stamp;
  /** The earliest created/uploaded: who owns the video, and since when. */
  readonly origin?: Fact<{ ownerId: string }>;
  /** From video.created: when a never-completed upload expires. */
  readonly uploadExpiresAt?: Fact<string>;
  /** The current processing attempt (highest attempt, then newest). */
  readonly upload?: Fact<{ attempt: number; bucket: string; key: string; size: number }>;
  readonly title?: Fact<string>;
  readonly description?: Fact<string>;
  readonly visibility?: Fact<Visibility>;
  readonly probe?: Fact<Probe>;
  readonly packaged?: Fact<{ master: string; renditions: RenditionInfo[]; durationSec: number }>;
  /** The newest video.playable: the master plays before the last chunk is packaged. */
  readonly playable?: Fact<{ master: string }>;
  readonly images?: Fact<Images>;
  /** The newest failure of a stage other than thumbnails. */
  readonly failure?: Fact<Failure>;
  readonly thumbnailsFailure?: Fact<Failure>;
  readonly progress?: Fact<{ stage: string; percent: number }>;
  /** How many views are counted (the size of the video's set of view events). */
  readonly views?: number;
  readonly updatedAt?: string;
}

/** A video's derived status; `deleted` is the tombstone's, never answered by a query. */
export type DerivedStatus = VideoStatus | 'deleted';

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** JSON with sorted keys: a value read back from jsonb (which reorders keys) compares as it did before. */
const canonical = (v: unknown): string =>
  v === null || typeof v !== 'object'
    ? (JSON.stringify(v) ?? '')
    : Array.isArray(v)
      ? `[${v.map(canonical).join(',')}]`
      : `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(',')}}`;
const order = (a: Fact<unknown> | Stamp, b: Fact<unknown> | Stamp): number =>
  cmp(a.at, b.at) || cmp(a.id, b.id) || cmp(canonical((a as Fact<unknown>).value), canonical((b as Fact<unknown>).value));

const newest = <F extends Stamp>(old: F | undefined, next: F, by: (a: F, b: F) => number = order): F => (old && by(old, next) >= 0 ? old : next);
const earliest = <F extends Stamp>(old: F | undefined, next: F): F => (old && order(old, next) <= 0 ? old : next);
const byAttempt = (a: NonNullable<VideoState['upload']>, b: NonNullable<VideoState['upload']>) => a.value.attempt - b.value.attempt || order(a, b);

/** occurredAt as UTC ISO with milliseconds, so stamps compare as strings; undefined if unreadable. */
function normalizeAt(occurredAt: string): string | undefined {
  const t = Date.parse(occurredAt);
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

type Data<K extends keyof typeof Subjects> = EventData<(typeof Subjects)[K]>;

/** Folds one event into a video's state. Pure: the same events in any order and number give the same state. */
export function evolve(state: VideoState, env: Envelope): VideoState;
export function evolve(state: VideoState | undefined, env: Envelope): VideoState | undefined;
export function evolve(state: VideoState | undefined, env: Envelope): VideoState | undefined {
  const videoId = (env.data as { videoId?: unknown } | null)?.videoId;
  const at = normalizeAt(env.occurredAt);
  if (typeof videoId !== 'string' || at === undefined || !KNOWN.has(env.type)) return state;
  if (state && state.videoId !== videoId) return state;
  const s: VideoState = state ?? { v: 1, videoId };
  const stamp = { at, id: env.id };
  const fact = <T>(value: T): Fact<T> => ({ ...stamp, value });

  if (env.type === Subjects.deleted) return { v: 1, videoId, deleted: earliest(s.deleted, stamp) };
  if (s.deleted) return s;

  let next: VideoState = { ...s, updatedAt: s.updatedAt && s.updatedAt > at ? s.updatedAt : at };
  const meta = (d: { title?: string; description?: string; visibility?: Visibility }) => {
    if (d.title !== undefined) next = { ...next, title: newest(next.title, fact(d.title)) };
    if (d.description !== undefined) next = { ...next, description: newest(next.description, fact(d.description)) };
    if (d.visibility !== undefined) next = { ...next, visibility: newest(next.visibility, fact(d.visibility)) };
  };
  const progress = (stage: string, percent: number) => {
    next = { ...next, progress: newest(next.progress, fact({ stage, percent })) };
  };

  switch (env.type) {
    case Subjects.created: {
      const d = env.data as Data<'created'>;
      next = { ...next, origin: earliest(next.origin, fact({ ownerId: d.ownerId })), uploadExpiresAt: newest(next.uploadExpiresAt, fact(d.upload.expiresAt)) };
      meta(d);
      break;
    }
    case Subjects.uploaded: {
      const d = env.data as Data<'uploaded'>;
      const upload = fact({ attempt: d.attempt ?? 1, bucket: d.source.bucket, key: d.source.key, size: d.source.size });
      next = { ...next, origin: earliest(next.origin, fact({ ownerId: d.ownerId })), upload: newest(next.upload, upload, byAttempt) };
      meta(d);
      progress('ingest', 0);
      break;
    }
    case Subjects.updated:
      meta(env.data as Data<'updated'>);
      break;
    case Subjects.ingested:
      next = { ...next, probe: newest(next.probe, fact((env.data as Data<'ingested'>).probe)) };
      progress('transcode', 0);
      break;
    case Subjects.progress: {
      const d = env.data as Data<'progress'>;
      progress(d.stage, d.percent);
      break;
    }
    case Subjects.thumbnailsCreated: {
      const d = env.data as Data<'thumbnailsCreated'>;
      const images = { poster: d.poster, thumbnails: d.thumbnails, storyboard: d.storyboard.image, storyboardVtt: d.storyboard.vtt };
      next = { ...next, images: newest(next.images, fact(images)) };
      break;
    }
    case Subjects.packaged: {
      const d = env.data as Data<'packaged'>;
      next = { ...next, packaged: newest(next.packaged, fact({ master: d.master.key, renditions: d.renditions, durationSec: d.durationSec })) };
      progress('thumbnails', 0);
      break;
    }
    case Subjects.playable:
      next = { ...next, playable: newest(next.playable, fact({ master: (env.data as Data<'playable'>).master.key })) };
      break;
    case Subjects.failed: {
      const d = env.data as Data<'failed'>;
      const f = fact({ stage: d.stage, code: d.code, message: d.message });
      if (d.stage === 'thumbnails') next = { ...next, thumbnailsFailure: newest(next.thumbnailsFailure, f) };
      else next = { ...next, failure: newest(next.failure, f) };
      break;
    }
    // transcode.requested, transcoded: nothing the record shows beyond updatedAt
  }
  return next;
}

/**
 * `video.ready` is the catalog's own output, derived from this fold: folding it back would add
 * nothing; `video.viewed` is counted beside the fold (withViews).
 */
const KNOWN = new Set<string>(Object.values(Subjects).filter((s) => s !== Subjects.ready && s !== Subjects.viewed));

/** The state with `count` views (the size of its set of view events); a tombstone stays as it is. */
export const withViews = (s: VideoState, count: number): VideoState => (s.deleted || s.views === count ? s : { ...s, views: count });

/** Folds a video's events from nothing. */
export const foldAll = (events: readonly Envelope[], from?: VideoState): VideoState | undefined => events.reduce<VideoState | undefined>(evolve, from);

/** A failure counts unless a later attempt started after it (the owner's retry). */
const counts = (s: VideoState, f: Stamp | undefined): f is Stamp => f !== undefined && (!s.upload || f.at >= s.upload.at);

export function statusOf(s: VideoState): DerivedStatus {
  if (s.deleted) return 'deleted';
  if (s.packaged && (s.images || counts(s, s.thumbnailsFailure))) return 'ready';
  if (counts(s, s.failure)) return 'failed';
  if (s.upload || s.probe || s.packaged || s.playable || s.images || s.progress) return 'processing';
  return 'waiting_upload';
}

/** The master a player may start on: the packaged one, else an early (EVENT) one of the current attempt; none for a failed video. */
export function playableMaster(s: VideoState): string | undefined {
  const status = statusOf(s);
  if (status !== 'ready' && status !== 'processing') return undefined;
  return s.packaged?.value.master ?? (counts(s, s.playable) ? s.playable.value.master : undefined);
}

/**
 * The `video.ready` announcement a state makes: defined once the video is ready and its owner known
 * (a ready video whose upload event is late is announced when that event arrives).
 */
export function readyOf(s: VideoState): EventData<typeof Subjects.ready> | undefined {
  if (statusOf(s) !== 'ready' || !s.origin || !s.packaged) return undefined;
  const { master, renditions, durationSec } = s.packaged.value;
  return {
    videoId: s.videoId,
    ownerId: s.origin.value.ownerId,
    attempt: s.upload?.value.attempt ?? 1,
    durationSec,
    master,
    renditions,
    ...(s.images ? { poster: s.images.value.poster } : {}),
  };
}

/** The event id of a ready announcement: JetStream's duplicate window drops a repeat of it. */
export const readyEventId = (r: { videoId: string; attempt: number }): string => `${r.videoId}.ready.${r.attempt}`;

/** What a query shows; undefined for a tombstone or a video whose owner is not known yet. */
export function toRecord(s: VideoState): VideoRecord | undefined {
  const status = statusOf(s);
  if (status === 'deleted' || !s.origin) return undefined;
  const thumbnailsError = status !== 'failed' && !s.images && counts(s, s.thumbnailsFailure) ? s.thumbnailsFailure : undefined;
  const error = status === 'failed' ? s.failure?.value : thumbnailsError?.value;
  const durationSec = s.packaged?.value.durationSec ?? s.probe?.value.durationSec;
  const playable = playableMaster(s);
  const master = s.packaged?.value.master ?? playable;
  return {
    id: s.videoId,
    ownerId: s.origin.value.ownerId,
    title: s.title?.value ?? '',
    description: s.description?.value ?? '',
    visibility: s.visibility?.value ?? 'private',
    status,
    ...(error ? { error: { code: error.code, stage: error.stage, message: error.message } } : {}),
    ...(status === 'processing' && s.progress ? { progress: { ...s.progress.value } } : {}),
    ...(durationSec !== undefined ? { durationSec } : {}),
    ...(s.probe ? { source: s.probe.value } : {}),
    ...(s.upload
      ? { sourceObject: { bucket: s.upload.value.bucket, key: s.upload.value.key, size: s.upload.value.size }, attempt: s.upload.value.attempt }
      : {}),
    ...(s.packaged ? { renditions: s.packaged.value.renditions } : {}),
    ...(master ? { master } : {}),
    ...(playable ? { playable: true } : {}),
    ...(s.images ? { images: s.images.value } : {}),
    ...(s.views ? { views: s.views } : {}),
    createdAt: s.origin.at,
    updatedAt: s.updatedAt ?? s.origin.at,
  };
}
