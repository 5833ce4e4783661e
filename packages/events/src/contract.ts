import { randomUUID } from 'node:crypto';
import { type Static, type TSchema, Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { InvalidMessageError } from './errors.ts';
import * as S from './schemas.ts';

/** One subject's contract: the version producers emit, its schema, and upcasters from older versions. */
export interface EventDef<Schema extends TSchema = TSchema> {
  readonly version: number;
  readonly schema: Schema;
  /** `upcasters[n]` turns version-n data into version n+1 data. */
  readonly upcasters?: Readonly<Record<number, (data: unknown) => unknown>>;
}

export type Registry = Readonly<Record<string, EventDef>>;

/**
 * Every subject of the platform: facts (`video.…`, past tense, kept in the VIDEO stream as the
 * platform's history), work items (`work.…`, imperatives, in the WORK stream with work-queue
 * retention: gone once done) and chatter (`live.…`, in the LIVE stream, in memory for a minute). Other files import these names, never spell them.
 */
export const registry = {
  'video.created': { version: 1, schema: S.CreatedV1 },
  'video.uploaded': { version: 1, schema: S.VideoUploadedV1 },
  'video.updated': { version: 1, schema: S.UpdatedV1 },
  'video.ingested': { version: 1, schema: S.VideoIngestedV1 },
  'work.transcode.requested': { version: 1, schema: S.TranscodeRequestedV1 },
  'video.transcoded': { version: 1, schema: S.VideoTranscodedV1 },
  'work.audio.requested': { version: 1, schema: S.AudioRequestedV1 },
  'video.audio.transcoded': { version: 1, schema: S.AudioTranscodedV1 },
  'video.thumbnails.created': { version: 1, schema: S.ThumbnailsCreatedV1 },
  'live.progress': { version: 1, schema: S.ProgressV1 },
  'video.playable': { version: 1, schema: S.PlayableV1 },
  'video.packaged': { version: 1, schema: S.PackagedV1 },
  'video.ready': { version: 1, schema: S.ReadyV1 },
  'video.failed': { version: 1, schema: S.FailedV1 },
  'video.deleted': { version: 1, schema: S.DeletedV1 },
  'video.viewed': { version: 1, schema: S.ViewedV1 },
} as const satisfies Registry;

export type PlatformRegistry = typeof registry;
export type Subject<R extends Registry = PlatformRegistry> = keyof R & string;
export type EventData<K extends Subject<R>, R extends Registry = PlatformRegistry> = Static<R[K]['schema']>;

/** `work.transcode.requested` → `transcodeRequested`: a subject's name in `Subjects`. */
type SubjectName<S extends string> = S extends `${'video' | 'work' | 'live'}.${infer Rest}` ? CamelDots<Rest> : never;
type CamelDots<S extends string> = S extends `${infer Head}.${infer Tail}` ? `${Head}${Capitalize<CamelDots<Tail>>}` : S;

const subjectName = (subject: string): string => subject.replace(/^(video|work|live)\./, '').replace(/\.([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Named constants for the subjects, so call sites read `Subjects.uploaded`. Computed from the
 * registry's keys (names and values at runtime, the same at compile time), so a subject added
 * to the registry is named here without anyone writing it down twice.
 */
export const Subjects = Object.freeze(Object.fromEntries(Object.keys(registry).map((s) => [subjectName(s), s]))) as {
  readonly [K in Subject as SubjectName<K>]: K;
};

/** The stream that stores every fact about videos: the platform's history. */
export const VIDEO_STREAM = 'VIDEO';
export const VIDEO_SUBJECTS = 'video.>';
/** The work queue: work items, each removed once a worker acknowledges it. */
export const WORK_STREAM = 'WORK';
export const WORK_SUBJECTS = 'work.>';
/**
 * What the WORK stream captures: the registry's work subjects, not the whole `work.>` namespace.
 * A work-queue message nobody consumes would stay for the stream's whole max age, so a publish to
 * an unknown work subject is refused (no stream) instead of stored.
 */
export const WORK_ITEMS: readonly string[] = Object.keys(registry).filter((s) => s.startsWith('work.'));

/** Chatter (`live.…`: progress ticks): kept a minute, for whoever follows a video now; not history. */
export const LIVE_STREAM = 'LIVE';
export const LIVE_SUBJECTS = 'live.>';

/** The stream a subject (or a consumer's filter) lives in. */
/** Every stream of the platform, for whoever inspects them all (tests, chaos scripts). */
export const STREAMS = [VIDEO_STREAM, WORK_STREAM, LIVE_STREAM] as const;
export const streamOf = (subject: string): string => (subject.startsWith('work.') ? WORK_STREAM : subject.startsWith('live.') ? LIVE_STREAM : VIDEO_STREAM);

/** The envelope every event travels in; `data` is the subject's schema. */
export const EnvelopeSchema = T.Object({
  id: T.String({ minLength: 1, maxLength: 256 }),
  type: T.String({ minLength: 1 }),
  version: T.Integer({ minimum: 1 }),
  occurredAt: T.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T' }),
  data: T.Unknown(),
});

/** What travels on the wire for every event. Read-only once made. */
export interface Envelope<D = unknown> {
  readonly id: string;
  readonly type: string;
  readonly version: number;
  readonly occurredAt: string;
  readonly data: D;
}

/** The first ten ways `value` breaks `schema`, as `path message`. */
export function problemsOf(schema: TSchema, value: unknown): string[] {
  return [...Value.Errors(schema, value)].slice(0, 10).map((e) => `${e.path || '/'} ${e.message}`);
}

/** Builds the envelope of a new event after validating `data` against the subject's latest schema. */
export function makeEnvelope<R extends Registry, K extends Subject<R>>(
  reg: R,
  subject: K,
  data: EventData<K, R>,
  opts: { id?: string; occurredAt?: Date } = {},
): Envelope<EventData<K, R>> {
  const def = reg[subject];
  if (!def) throw new InvalidMessageError(`unknown subject ${subject}`);
  const problems = problemsOf(def.schema, data);
  if (problems.length) throw new InvalidMessageError(`invalid ${subject} event`, problems);
  return Object.freeze({
    id: opts.id ?? randomUUID(),
    type: subject,
    version: def.version,
    occurredAt: (opts.occurredAt ?? new Date()).toISOString(),
    data,
  });
}

/**
 * Parses, upcasts and validates a message body. Throws InvalidMessageError with the reasons
 * when the bytes are not an envelope, the subject or version is unknown, or the data is invalid.
 */
export function decodeEnvelope<R extends Registry>(reg: R, subject: string, body: Uint8Array | string): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body));
  } catch (err) {
    throw new InvalidMessageError(`${subject} message is not JSON`, [], { cause: err });
  }
  const envProblems = problemsOf(EnvelopeSchema, raw);
  if (envProblems.length) throw new InvalidMessageError(`${subject} message is not an envelope`, envProblems);
  const env = raw as Envelope;
  const def = reg[subject] as EventDef | undefined;
  if (!def) throw new InvalidMessageError(`unknown subject ${subject}`);
  if (env.type !== subject) throw new InvalidMessageError(`envelope type ${env.type} does not match subject ${subject}`);
  if (env.version > def.version) throw new InvalidMessageError(`${subject} version ${env.version} is newer than this service knows (${def.version})`);
  let data = env.data;
  for (let v = env.version; v < def.version; v++) {
    const up = def.upcasters?.[v];
    if (!up) throw new InvalidMessageError(`${subject} has no upcaster from version ${v}`);
    data = up(data);
  }
  const problems = problemsOf(def.schema, data);
  if (problems.length) throw new InvalidMessageError(`invalid ${subject} event`, problems);
  return Object.freeze({ ...env, version: def.version, data });
}
