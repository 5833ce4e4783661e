import { type Static, Type as T } from '@sinclair/typebox';

/**
 * The words every service uses about a video, written once: its id, its status and which
 * statuses are final, its visibility, and the title a file gives it.
 */

/** Video ids are lowercase UUIDs minted by the gateway; every video event carries one. */
export const VIDEO_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const VIDEO_ID = new RegExp(VIDEO_ID_PATTERN);

/** True when `value` is a video id (checked before it reaches an object key or a query). */
export const isVideoId = (value: unknown): value is string => typeof value === 'string' && VIDEO_ID.test(value);

export const VideoId = T.String({ pattern: VIDEO_ID_PATTERN });

/** `private`: its owner only; `unlisted`: anyone with the link, never listed; `public`: anyone, listed. */
export const Visibility = T.Union([T.Literal('private'), T.Literal('unlisted'), T.Literal('public')]);
export type Visibility = Static<typeof Visibility>;

/** Where a video is, as the catalog derives it from its events. */
export const VideoStatus = T.Union([T.Literal('waiting_upload'), T.Literal('processing'), T.Literal('ready'), T.Literal('failed')]);
export type VideoStatus = Static<typeof VideoStatus>;

/** Statuses after which nothing changes without the owner acting (a retry, a delete): followers stop here. */
export const FINAL_STATUSES: ReadonlySet<VideoStatus> = new Set(['ready', 'failed']);
export const isFinalStatus = (status: unknown): status is 'ready' | 'failed' => FINAL_STATUSES.has(status as VideoStatus);

const UNTITLED = 'Untitled';
export const MAX_TITLE_LENGTH = 200;

/**
 * The title a video gets: the owner's, else the uploaded file's name without its extension,
 * trimmed and cut to the schema's limit; `Untitled` when that leaves nothing.
 */
export function titleFromFilename(title: string | undefined, filename: string | undefined): string {
  return (title ?? filename?.replace(/\.[^.]*$/, '') ?? UNTITLED).trim().slice(0, MAX_TITLE_LENGTH) || UNTITLED;
}
