import { randomUUID } from 'node:crypto';
import { QueryError, WEBHOOK_EVENTS, type WebhookDelivery, type WebhookEvent, type WebhookRecord } from '@reel/events';
import { and, desc, eq } from 'drizzle-orm';
import type { Db } from './db.ts';
import { isOutboundRefusedError, resolveTarget } from './outbound.ts';
import { deliveries, endpoints } from './schema.ts';
import { newSecret } from './signature.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Deliveries listed per webhook: the latest ones, which is what an owner debugging a receiver looks at. */
const DELIVERIES_SHOWN = 100;

const notFound = () => new QueryError('not_found', 'no such webhook');

/** The gateway's create/list/delete/deliveries queries; another owner's webhook is `not_found`. */
export function createQueries(db: Db, opts: { allowPrivate: boolean }) {
  const owned = async (ownerId: string, id: string) => {
    if (!UUID.test(id)) throw notFound();
    const [row] = await db
      .select({ id: endpoints.id })
      .from(endpoints)
      .where(and(eq(endpoints.id, id), eq(endpoints.ownerId, ownerId)));
    if (!row) throw notFound();
    return row;
  };
  return {
    async create(req: { ownerId: string; url: string; events?: WebhookEvent[] }) {
      try {
        await resolveTarget(req.url, opts.allowPrivate);
      } catch (err) {
        if (isOutboundRefusedError(err)) throw new QueryError('bad_request', err.message);
        throw err;
      }
      const events = req.events ? WEBHOOK_EVENTS.filter((e) => req.events?.includes(e)) : [...WEBHOOK_EVENTS];
      const [row] = await db.insert(endpoints).values({ id: randomUUID(), ownerId: req.ownerId, url: req.url, events, secret: newSecret() }).returning();
      if (!row) throw new Error('insert returned no row');
      return { id: row.id, url: row.url, events, secret: row.secret, createdAt: row.createdAt.toISOString() };
    },
    async list(req: { ownerId: string }): Promise<{ items: WebhookRecord[] }> {
      const rows = await db.select().from(endpoints).where(eq(endpoints.ownerId, req.ownerId)).orderBy(desc(endpoints.createdAt));
      return {
        items: rows.map((r) => ({ id: r.id, url: r.url, events: r.events as WebhookEvent[], active: !r.disabledAt, createdAt: r.createdAt.toISOString() })),
      };
    },
    async remove(req: { ownerId: string; id: string }) {
      await owned(req.ownerId, req.id);
      await db.delete(endpoints).where(and(eq(endpoints.id, req.id), eq(endpoints.ownerId, req.ownerId)));
      return {};
    },
    async deliveries(req: { ownerId: string; id: string }): Promise<{ items: WebhookDelivery[] }> {
      await owned(req.ownerId, req.id);
      const rows = await db.select().from(deliveries).where(eq(deliveries.webhookId, req.id)).orderBy(desc(deliveries.createdAt)).limit(DELIVERIES_SHOWN);
      return {
        items: rows.map((r) => ({
          id: r.id,
          eventId: r.eventId,
          type: r.type,
          status: r.status,
          attempts: r.attempts,
          responseStatus: r.responseStatus,
          lastAttemptAt: r.lastAttemptAt?.toISOString() ?? null,
        })),
      };
    },
  };
}
