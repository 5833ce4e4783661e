import type { JetStreamManager } from '@nats-io/jetstream';
import { type Logger, type Publisher, type Stage, Subjects, VIDEO_STREAM, WORK_STREAM } from '@reel/events';
import { and, eq, lt } from 'drizzle-orm';
import type { Db } from './db.ts';
import { videos } from './schema.ts';

/**
 * The facts whose consumers move a video on (ingest, the packager), and the catalog's own fold: a
 * backlog in any of them, or any work item in WORK (queued or running), means a quiet video may
 * still move. Consumers that only watch (webhooks, analytics, deletions) do not count.
 */
const MOVES_ON: ReadonlySet<string> = new Set([Subjects.uploaded, Subjects.transcoded, Subjects.audioTranscoded]);
const OWN_FOLD = 'catalog';

/** Why a quiet video may still move, or undefined when nothing anywhere is left to move one. */
export async function pipelineBusy(jsm: JetStreamManager): Promise<string | undefined> {
  const work = await jsm.streams.info(WORK_STREAM);
  if (work.state.messages > 0) return `${work.state.messages} work item(s) queued or running`;
  for await (const c of jsm.consumers.list(VIDEO_STREAM)) {
    const filters = [c.config.filter_subject, ...(c.config.filter_subjects ?? [])];
    const moves = c.name === OWN_FOLD || filters.some((f) => f !== undefined && MOVES_ON.has(f));
    if (moves && (c.num_pending > 0 || c.num_ack_pending > 0)) return `${c.name} has ${c.num_pending + c.num_ack_pending} event(s) to handle`;
  }
  return undefined;
}

/**
 * The safety net for "no video is ever stuck processing": a video still `processing` that no event
 * has touched for `quietMs` (a running encode ticks its progress every 2 s) while the whole
 * pipeline is idle (no work item in WORK, no backlog in ingest, the packager or this fold) can never
 * move again, whatever lost it (a purged queue, a bug). It is failed as `stalled`, with the step it
 * stopped at, so the owner sees why and can retry it. A video merely queued behind others is never
 * failed: the queue holds its work. The event id derives from the video and its last change, so
 * catalog replicas sweeping at once publish it once.
 */
export async function failStalledVideos(
  deps: { db: Db; jsm: JetStreamManager; publisher: Publisher; log: Logger },
  quietMs: number,
  now = new Date(),
): Promise<number> {
  const quiet = await deps.db
    .select({ id: videos.id, updatedAt: videos.updatedAt, state: videos.state })
    .from(videos)
    .where(and(eq(videos.status, 'processing'), lt(videos.updatedAt, new Date(now.getTime() - quietMs))))
    .limit(100);
  if (quiet.length === 0) return 0;
  const busy = await pipelineBusy(deps.jsm);
  if (busy) {
    deps.log.info({ quiet: quiet.length, busy }, 'quiet videos left alone: the pipeline still has work');
    return 0;
  }
  for (const v of quiet) {
    const progress = v.state.progress?.value;
    const stage: Stage = (progress?.stage as Stage | undefined) ?? 'ingest';
    const quietSec = Math.round((now.getTime() - v.updatedAt.getTime()) / 1000);
    const ago = quietSec < 120 ? `${quietSec} s` : `${Math.round(quietSec / 60)} min`;
    const at = progress ? `${progress.stage} at ${progress.percent} %` : 'before its first step';
    await deps.publisher.publish(
      Subjects.failed,
      { videoId: v.id, stage, code: 'stalled', message: `processing stopped (${at}) ${ago} ago with no work left for it; retry the video` },
      { id: `${v.id}.stalled.${v.updatedAt.getTime()}` },
    );
    deps.log.warn({ videoId: v.id, stage, at }, 'a stalled video was failed');
  }
  return quiet.length;
}
