import { randomUUID } from 'node:crypto';
import { type HandlerContext, type HandlerMap, Subjects, WEBHOOK_EVENTS } from '@reel/events';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from './db.ts';
import { deliveries, endpoints, videoOwners } from './schema.ts';

/** How many times an event whose video's owner is not known yet is retried before it is dropped. */
const OWNER_WAIT_DELIVERIES = 5;

class OwnerUnknownError extends Error {
  override name = 'OwnerUnknownError';
}

/**
 * The consumer's handlers: remember each video's owner, and turn every event an owner's webhook
 * subscribes to into one `retrying` delivery per endpoint (due now). Redelivered events insert
 * nothing new (one delivery per webhook and event id).
 */
export function createIntake(db: Db, onQueued: () => void): Partial<HandlerMap> {
  const remember = async (videoId: string, ownerId: string) => {
    await db.insert(videoOwners).values({ videoId, ownerId }).onConflictDoNothing();
  };
  const ownerOf = async (videoId: string, ctx: HandlerContext): Promise<string | undefined> => {
    const [row] = await db.select({ ownerId: videoOwners.ownerId }).from(videoOwners).where(eq(videoOwners.videoId, videoId));
    if (row) return row.ownerId;
    // the stream holds video.uploaded before these: a miss is a moment's race or a video from before this service
    if (ctx.deliveryCount < OWNER_WAIT_DELIVERIES) throw new OwnerUnknownError(`the owner of video ${videoId} is not known yet`);
    ctx.log.warn({}, 'owner of the video unknown; no webhook delivery');
    return undefined;
  };
  const fanOut = async (ownerId: string, ctx: HandlerContext) => {
    const { envelope } = ctx;
    const hooks = await db
      .select({ id: endpoints.id })
      .from(endpoints)
      .where(and(eq(endpoints.ownerId, ownerId), isNull(endpoints.disabledAt), sql`${endpoints.events} ? ${envelope.type}`));
    if (!hooks.length) return;
    const body = JSON.stringify(envelope);
    await db
      .insert(deliveries)
      .values(hooks.map((h) => ({ id: randomUUID(), webhookId: h.id, eventId: envelope.id, type: envelope.type, body, status: 'retrying' as const })))
      .onConflictDoNothing();
    onQueued();
  };
  const withOwner = async (data: { videoId: string; ownerId: string }, ctx: HandlerContext) => {
    await remember(data.videoId, data.ownerId);
    if ((WEBHOOK_EVENTS as readonly string[]).includes(ctx.envelope.type)) await fanOut(data.ownerId, ctx);
  };
  const lookedUp = async (data: { videoId: string }, ctx: HandlerContext) => {
    const ownerId = await ownerOf(data.videoId, ctx);
    if (ownerId) await fanOut(ownerId, ctx);
  };
  return {
    [Subjects.created]: withOwner,
    [Subjects.uploaded]: withOwner,
    [Subjects.updated]: withOwner,
    [Subjects.deleted]: withOwner,
    [Subjects.ready]: withOwner,
    [Subjects.playable]: lookedUp,
    [Subjects.failed]: lookedUp,
  };
}
