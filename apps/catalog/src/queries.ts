import { and, desc, eq, ilike, isNotNull, lt, ne, or, type SQL } from 'drizzle-orm';
import { isVideoId, QueryError, type VideoRecord, type getVideoQuery, type listPublicVideosQuery, type listVideosQuery } from '@reel/events';
import type { Static } from '@sinclair/typebox';
import { SpanKind, withSpan } from '@reel/telemetry/span';
import type { Db } from './db.ts';
import { isConnectionError } from './db-health.ts';
import { toRecord } from './fold.ts';
import { videos } from './schema.ts';

type Row = typeof videos.$inferSelect;

/** The cursor is the last item's (createdAt, id), base64url: opaque to clients, stable under inserts. */
const encodeCursor = (r: Row) => Buffer.from(`${r.createdAt.toISOString()}|${r.id}`).toString('base64url');
function decodeCursor(c: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(c, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  if (!isVideoId(id) || Number.isNaN(date.getTime())) throw new QueryError('bad_request', 'invalid cursor');
  return { at: date, id };
}

/** A query's span; Postgres out of reach is `unavailable` (the gateway answers 503 + Retry-After), not `internal`. */
const span = <T>(op: string, fn: () => Promise<T>) =>
  withSpan(
    `postgres ${op} videos`,
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.operation.name': op, 'db.collection.name': 'videos' } },
    async () => {
      try {
        return await fn();
      } catch (err) {
        if (isConnectionError(err)) throw new QueryError('unavailable', 'the catalog database is unavailable', { cause: err });
        throw err;
      }
    },
  );

export function createQueries(db: Db) {
  return {
    get: (req: Static<typeof getVideoQuery.request>) => span('SELECT', () => getVideo(db, req)),
    list: (req: Static<typeof listVideosQuery.request>) => span('SELECT', () => listVideos(db, req)),
    listPublic: (req: Static<typeof listPublicVideosQuery.request>) => span('SELECT', () => listPublicVideos(db, req)),
  };
}

async function getVideo(db: Db, req: Static<typeof getVideoQuery.request>): Promise<VideoRecord> {
  if (!isVideoId(req.id)) throw new QueryError('not_found', 'no such video');
  const [row] = await db.select({ state: videos.state }).from(videos).where(eq(videos.id, req.id));
  // a tombstone, or a video whose owner is not known yet, is not there; another owner's private video
  // does not exist, as far as the viewer can tell (an unlisted one is there for whoever has its id)
  const v = row && toRecord(row.state);
  if (!v || (v.visibility === 'private' && v.ownerId !== req.viewer)) throw new QueryError('not_found', 'no such video');
  return v;
}

async function listVideos(db: Db, req: Static<typeof listVideosQuery.request>): Promise<Static<typeof listVideosQuery.response>> {
  // a tombstone has no owner; the status filter says it again for whoever reads this
  const where: SQL[] = [eq(videos.ownerId, req.ownerId), ne(videos.status, 'deleted')];
  if (req.status) where.push(eq(videos.status, req.status));
  if (req.q) {
    const pattern = `%${req.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(or(ilike(videos.title, pattern), ilike(videos.description, pattern)) as SQL);
  }
  return page(db, where, req);
}

/** What a visitor is shown: public videos that are ready (never unlisted, private or unfinished ones). */
async function listPublicVideos(db: Db, req: Static<typeof listPublicVideosQuery.request>): Promise<Static<typeof listPublicVideosQuery.response>> {
  return page(db, [eq(videos.visibility, 'public'), eq(videos.status, 'ready'), isNotNull(videos.ownerId)], req);
}

/** One page, newest first, after the cursor. */
async function page(db: Db, where: SQL[], req: { limit: number; cursor?: string | undefined }): Promise<Static<typeof listVideosQuery.response>> {
  if (req.cursor) {
    const c = decodeCursor(req.cursor);
    where.push(or(lt(videos.createdAt, c.at), and(eq(videos.createdAt, c.at), lt(videos.id, c.id))) as SQL);
  }
  const rows = await db
    .select()
    .from(videos)
    .where(and(...where))
    .orderBy(desc(videos.createdAt), desc(videos.id))
    .limit(req.limit + 1);
  const shown = rows.slice(0, req.limit);
  const last = shown.at(-1);
  const items = shown.map((r) => toRecord(r.state)).filter((v): v is VideoRecord => v !== undefined);
  return { items, nextCursor: rows.length > req.limit && last ? encodeCursor(last) : null };
}
