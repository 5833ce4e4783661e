import type { Logger } from '@reel/events';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from './db.ts';
import { isOutboundRefusedError, resolveTarget } from './outbound.ts';
import { deliveries, endpoints } from './schema.ts';
import { postOnce } from './send.ts';
import { signatureHeader } from './signature.ts';

export interface DispatcherOptions {
  allowPrivate: boolean;
  /** Waits before each retry, by attempt (the last repeats). */
  backoffMs: number[];
  /** A delivery still failing this long after it was queued is marked `failed`. */
  retryForMs: number;
  timeoutMs: number;
  pollMs: number;
  /** Deliveries sent at once by this process. */
  batch?: number;
}

/** Retry wait after the `attempts`-th failed attempt. */
export function backoffAfter(backoffMs: number[], attempts: number): number {
  return backoffMs[Math.min(attempts - 1, backoffMs.length - 1)] ?? 60_000;
}

type Claimed = {
  id: string;
  body: string;
  event_id: string;
  type: string;
  attempts: number;
  created_at: Date | string;
  url: string;
  secret: string;
  webhook_id: string;
};

/**
 * Sends due deliveries. Retries are rows, not redeliveries: each delivery has `next_attempt_at`,
 * polled here. A claim pushes it ahead by a lease longer than an attempt can take, so replicas
 * never send the same delivery at once and a crashed sender's work is picked up after the lease.
 */
export function startDispatcher(db: Db, log: Logger, opts: DispatcherOptions) {
  const batch = opts.batch ?? 10;
  const leaseSec = Math.ceil(opts.timeoutMs / 1000) + 30;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const claim = async (): Promise<Claimed[]> => {
    const rows = await db.execute(sql`
      update webhooks.deliveries d set next_attempt_at = now() + make_interval(secs => ${leaseSec})
      from webhooks.endpoints e
      where e.id = d.webhook_id and d.id in (
        select id from webhooks.deliveries
        where status = 'retrying' and next_attempt_at <= now()
        order by next_attempt_at limit ${batch} for update skip locked)
      returning d.id, d.body, d.event_id, d.type, d.attempts, d.created_at, d.webhook_id, e.url, e.secret`);
    return rows as unknown as Claimed[];
  };

  const attempt = async (d: Claimed): Promise<void> => {
    const attempts = d.attempts + 1;
    const now = new Date();
    const dlog = log.child({ deliveryId: d.id, webhookId: d.webhook_id, eventId: d.event_id, attempts });
    let status: number | undefined;
    let error: string | undefined;
    try {
      // resolved again for every attempt: a host that now points inside is refused
      const target = await resolveTarget(d.url, opts.allowPrivate);
      const headers = { 'reel-event-id': d.event_id, 'reel-event-type': d.type, 'reel-signature': signatureHeader(d.secret, d.body) };
      const result = await postOnce(target, d.body, headers, opts.timeoutMs);
      if ('status' in result) status = result.status;
      else error = result.error;
    } catch (err) {
      if (!isOutboundRefusedError(err)) throw err;
      error = err.message;
    }
    if (status !== undefined && status >= 200 && status < 300) {
      await db
        .update(deliveries)
        .set({ status: 'delivered', attempts, responseStatus: status, lastError: null, lastAttemptAt: now })
        .where(eq(deliveries.id, d.id));
      dlog.info({ status }, 'webhook delivered');
      return;
    }
    if (status === 410) {
      // the receiver says it is gone for good: stop sending it anything (one transaction: nobody
      // sees the endpoint disabled with deliveries still pending)
      await db.transaction(async (tx) => {
        await tx.update(endpoints).set({ disabledAt: now }).where(eq(endpoints.id, d.webhook_id));
        await tx.update(deliveries).set({ status: 'failed', attempts, responseStatus: status, lastAttemptAt: now }).where(eq(deliveries.id, d.id));
        await tx
          .update(deliveries)
          .set({ status: 'failed', lastError: 'the endpoint answered 410 Gone and was disabled' })
          .where(and(eq(deliveries.webhookId, d.webhook_id), eq(deliveries.status, 'retrying')));
      });
      dlog.warn({ status }, 'webhook endpoint answered 410 Gone; disabled');
      return;
    }
    const createdAt = new Date(d.created_at).getTime();
    const next = now.getTime() + backoffAfter(opts.backoffMs, attempts);
    const giveUp = next - createdAt > opts.retryForMs;
    await db
      .update(deliveries)
      .set({
        status: giveUp ? 'failed' : 'retrying',
        attempts,
        responseStatus: status ?? null,
        lastError: error ?? `answered ${status}`,
        lastAttemptAt: now,
        nextAttemptAt: new Date(next),
      })
      .where(eq(deliveries.id, d.id));
    dlog.warn({ status, error, giveUp }, giveUp ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry');
  };

  const round = async () => {
    do {
      again = false;
      for (;;) {
        const due = await claim();
        if (!due.length || stopped) break;
        await Promise.all(due.map((d) => attempt(d).catch((err) => log.error({ err, deliveryId: d.id }, 'webhook attempt crashed'))));
      }
    } while (again && !stopped);
  };
  const kick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = round()
      .catch((err) => log.warn({ err }, 'webhook dispatch round failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const tick = () => {
    kick();
    timer = setTimeout(tick, opts.pollMs);
  };
  tick();
  return {
    /** A delivery was just queued: look now rather than at the next poll. */
    kick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
