/**
 * The analytics read model as a pure fold: `foldEvent(state, envelope) → state`, and the numbers
 * derived from the state by `statsOf`. Events arrive in any order and more than once (replay,
 * redelivery), so the state keeps FACTS keyed by what they are about (a video's upload of attempt
 * n, its ready announcement of attempt n, its failure at stage/code, its deletion); a repeat sets a
 * fact that is already set, and every count is derived from the facts when asked.
 */
import type { Envelope, EventData } from '@reel/events';

interface Upload {
  readonly at: string;
  readonly size: number;
}
interface Ready {
  readonly at: string;
  readonly durationSec: number;
}

export interface VideoFacts {
  readonly ownerId?: string;
  /** By processing attempt. */
  readonly uploads: Readonly<Record<string, Upload>>;
  readonly ready: Readonly<Record<string, Ready>>;
  /** `stage/code` → when it first failed so. */
  readonly failures: Readonly<Record<string, string>>;
  readonly deletedAt?: string;
  /** Ids of `video.viewed` events (a future subject): one view each, whatever the repeats. */
  readonly views?: readonly string[];
}

export interface AnalyticsState {
  readonly videos: Readonly<Record<string, VideoFacts>>;
}

export const emptyState = (): AnalyticsState => ({ videos: {} });

const VIEWED = 'video.viewed';
const none: VideoFacts = { uploads: {}, ready: {}, failures: {} };
const earlier = (a: string | undefined, b: string) => (a !== undefined && a <= b ? a : b);
const utc = (at: string) => new Date(Date.parse(at)).toISOString();

/** Folds one event. Pure: the same events in any order and number give the same state. */
export function foldEvent(state: AnalyticsState, env: Envelope): AnalyticsState {
  const videoId = (env.data as { videoId?: unknown } | null)?.videoId;
  if (typeof videoId !== 'string' || Number.isNaN(Date.parse(env.occurredAt))) return state;
  const at = utc(env.occurredAt);
  const v = state.videos[videoId] ?? none;
  let next: VideoFacts = v;
  switch (env.type) {
    case 'video.uploaded': {
      const d = env.data as EventData<'video.uploaded'>;
      const key = String(d.attempt ?? 1);
      const old = v.uploads[key];
      const upload = { at: earlier(old?.at, at), size: d.source.size };
      next = { ...v, ownerId: d.ownerId, uploads: { ...v.uploads, [key]: upload } };
      break;
    }
    case 'video.ready': {
      const d = env.data as EventData<'video.ready'>;
      const key = String(d.attempt);
      next = { ...v, ownerId: d.ownerId, ready: { ...v.ready, [key]: { at: earlier(v.ready[key]?.at, at), durationSec: d.durationSec } } };
      break;
    }
    case 'video.failed': {
      const d = env.data as EventData<'video.failed'>;
      const key = `${d.stage}/${d.code}`;
      next = { ...v, failures: { ...v.failures, [key]: earlier(v.failures[key], at) } };
      break;
    }
    case 'video.deleted': {
      const d = env.data as EventData<'video.deleted'>;
      next = { ...v, ownerId: v.ownerId ?? d.ownerId, deletedAt: earlier(v.deletedAt, at) };
      break;
    }
    case VIEWED:
      if (v.views?.includes(env.id)) return state;
      next = { ...v, views: [...(v.views ?? []), env.id].sort() };
      break;
    default:
      return state;
  }
  return { videos: { ...state.videos, [videoId]: next } };
}

export interface Stats {
  /** Videos uploaded (once each, whatever their retries), and the owner's retries. */
  uploads: number;
  retries: number;
  /** Videos that became ready at least once. */
  ready: number;
  /** Videos that failed, by stage and code (a video retried to ready still counts its failure). */
  failed: { total: number; byStageCode: { stage: string; code: string; videos: number }[] };
  deleted: number;
  /** Seconds from an attempt's upload to its ready announcement. */
  timeToReadySec: { count: number; sum: number; p50: number | null; p95: number | null };
  /** What owners store now (deleted videos excluded): minutes of ready video and bytes of sources. */
  owners: Record<string, { videos: number; minutes: number; bytes: number }>;
  /** Views per video, when the platform has a `video.viewed` subject (absent otherwise). */
  views?: Record<string, number>;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? null;
}

const lastAttempt = <T>(byAttempt: Readonly<Record<string, T>>): T | undefined => {
  const keys = Object.keys(byAttempt).sort((a, b) => Number(a) - Number(b));
  const last = keys.at(-1);
  return last === undefined ? undefined : byAttempt[last];
};

/** The numbers: derived from the facts, so they are the same for any order of the events. */
export function statsOf(state: AnalyticsState, opts: { viewsKnown?: boolean } = {}): Stats {
  // by id, so the output (and its JSON) is the same whatever order the videos were first seen in
  const videos = Object.entries(state.videos).sort(([a], [b]) => (a < b ? -1 : 1));
  const byStageCode = new Map<string, number>();
  const durations: number[] = [];
  const owners: Stats['owners'] = {};
  let uploads = 0;
  let retries = 0;
  let ready = 0;
  let failed = 0;
  let deleted = 0;
  for (const [, v] of videos) {
    const attempts = Object.keys(v.uploads).length;
    if (attempts) uploads++;
    retries += Math.max(0, attempts - 1);
    if (Object.keys(v.ready).length) ready++;
    const failures = Object.keys(v.failures);
    if (failures.length) failed++;
    for (const f of failures) byStageCode.set(f, (byStageCode.get(f) ?? 0) + 1);
    for (const [attempt, r] of Object.entries(v.ready)) {
      const up = v.uploads[attempt];
      if (up) durations.push((Date.parse(r.at) - Date.parse(up.at)) / 1000);
    }
    if (v.deletedAt) {
      deleted++;
      continue;
    }
    if (!v.ownerId || !attempts) continue;
    const o = owners[v.ownerId] ?? { videos: 0, minutes: 0, bytes: 0 };
    o.videos++;
    o.bytes += lastAttempt(v.uploads)?.size ?? 0;
    o.minutes += (lastAttempt(v.ready)?.durationSec ?? 0) / 60;
    owners[v.ownerId] = o;
  }
  durations.sort((a, b) => a - b);
  const stats: Stats = {
    uploads,
    retries,
    ready,
    failed: {
      total: failed,
      byStageCode: [...byStageCode]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, n]) => {
          const [stage = '', code = ''] = k.split('/');
          return { stage, code, videos: n };
        }),
    },
    deleted,
    timeToReadySec: { count: durations.length, sum: durations.reduce((a, b) => a + b, 0), p50: percentile(durations, 50), p95: percentile(durations, 95) },
    owners,
  };
  if (opts.viewsKnown) stats.views = Object.fromEntries(videos.filter(([, v]) => v.views?.length).map(([id, v]) => [id, v.views?.length ?? 0]));
  return stats;
}
