import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createLogger } from '@reel/runtime';
import { startReceiver, startTestInfra, until } from '@reel/stack';
import { eq } from 'drizzle-orm';
import t from 'tap';
import { openDb } from '../src/db.ts';
import { startDispatcher } from '../src/dispatcher.ts';
import { deliveries, endpoints } from '../src/schema.ts';

// The sender against real Postgres and real HTTP receivers: what each kind of answer does to a delivery.
const infra = await startTestInfra(t.teardown);
const { db, close } = await openDb(infra.env.DATABASE_URL as string);
t.teardown(close);

async function queue(url: string, n = 1) {
  const webhookId = randomUUID();
  await db.insert(endpoints).values({ id: webhookId, ownerId: 'o', url, events: ['video.ready'], secret: 'whsec_test' });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    ids.push(id);
    await db.insert(deliveries).values({ id, webhookId, eventId: `e-${id}`, type: 'video.ready', body: '{}', status: 'retrying' });
  }
  return { webhookId, ids };
}
const delivery = async (id: string) => (await db.select().from(deliveries).where(eq(deliveries.id, id)))[0];
type Delivery = NonNullable<Awaited<ReturnType<typeof delivery>>>;
/** The delivery once `done` holds of it (15 s at the most). */
const deliveryOnce = (what: string, id: string, done: (d: Delivery) => boolean) =>
  until(
    what,
    async () => {
      const d = await delivery(id);
      return d && done(d) ? d : undefined;
    },
    { timeoutMs: 15_000 },
  );
const attempted = (d: Delivery) => d.attempts > 0;
const failed = (d: Delivery) => d.status === 'failed';
const answering = (status: number) => (res: ServerResponse) => {
  res.statusCode = status;
  res.end();
};
const gone = await startReceiver(t.teardown, answering(410));
const target = await startReceiver(t.teardown);
const redirect = await startReceiver(t.teardown, (res) => {
  res.setHeader('location', target.url);
  answering(307)(res);
});
const silent = await startReceiver(t.teardown, () => {});
const broken = await startReceiver(t.teardown, answering(503));

// one pending delivery of the gone endpoint is held back (due later) so that only the first is sent
const goneQ = await queue(gone.url, 2);
await db
  .update(deliveries)
  .set({ nextAttemptAt: new Date(Date.now() + 60_000) })
  .where(eq(deliveries.id, goneQ.ids[1] as string));
const redirectQ = await queue(redirect.url);
const silentQ = await queue(silent.url);
const brokenQ = await queue(broken.url);

const dispatcher = startDispatcher(db, createLogger('webhooks-test', 'silent'), {
  allowPrivate: true,
  backoffMs: [100],
  retryForMs: 2500,
  timeoutMs: 500,
  pollMs: 50,
});
t.teardown(() => dispatcher.stop());

t.test('410 Gone disables the endpoint and fails its pending deliveries', async (t) => {
  const d = await deliveryOnce('the 410', goneQ.ids[0] as string, failed);
  t.match(d, { status: 'failed', attempts: 1, responseStatus: 410 });
  const [ep] = await db.select().from(endpoints).where(eq(endpoints.id, goneQ.webhookId));
  t.ok(ep?.disabledAt, 'the endpoint is disabled');
  t.match(await delivery(goneQ.ids[1] as string), { status: 'failed', attempts: 0 }, 'its other pending delivery is failed without being sent');
  t.equal(gone.got.length, 1, 'the receiver was called once');
});

t.test('a redirect is not followed', async (t) => {
  const d = await deliveryOnce('the redirect attempt', redirectQ.ids[0] as string, attempted);
  t.match(d, { responseStatus: 307 });
  t.equal(target.got.length, 0, 'the redirect target never got the request');
});

t.test('no answer within the timeout is a failed attempt', async (t) => {
  const d = await deliveryOnce('the silent attempt', silentQ.ids[0] as string, attempted);
  t.match(d, { responseStatus: null, lastError: /no answer within 500 ms/ });
});

t.test('retried with backoff until the retry window is over, then failed', async (t) => {
  const d = await deliveryOnce('the give-up', brokenQ.ids[0] as string, failed);
  t.match(d, { status: 'failed', responseStatus: 503 });
  t.ok(d.attempts >= 5, `retried several times (${d.attempts} attempts)`);
  t.equal(broken.got.length, d.attempts, 'one request per attempt');
});
