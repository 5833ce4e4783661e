import { randomUUID } from 'node:crypto';
import { createServer, type RequestListener } from 'node:http';
import { createLogger } from '@reel/runtime';
import { startTestInfra } from '@reel/stack';
import { eq } from 'drizzle-orm';
import t from 'tap';
import { openDb } from '../src/db.ts';
import { startDispatcher } from '../src/dispatcher.ts';
import { deliveries, endpoints } from '../src/schema.ts';

// The sender against real Postgres and real HTTP receivers: what each kind of answer does to a delivery.
const infra = await startTestInfra(t.teardown);
const { db, close } = await openDb(infra.env.DATABASE_URL as string);
t.teardown(close);

async function receiver(handler: RequestListener) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, hits };
}

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
async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const gone = await receiver((_req, res) => {
  res.statusCode = 410;
  res.end();
});
const target = await receiver((_req, res) => res.end());
const redirect = await receiver((_req, res) => {
  res.statusCode = 307;
  res.setHeader('location', target.url);
  res.end();
});
const silent = await receiver(() => {});
const broken = await receiver((_req, res) => {
  res.statusCode = 503;
  res.end();
});

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
  const d = await until('the 410', async () => ((await delivery(goneQ.ids[0] as string))?.status === 'failed' ? delivery(goneQ.ids[0] as string) : undefined));
  t.match(d, { status: 'failed', attempts: 1, responseStatus: 410 });
  const [ep] = await db.select().from(endpoints).where(eq(endpoints.id, goneQ.webhookId));
  t.ok(ep?.disabledAt, 'the endpoint is disabled');
  t.match(await delivery(goneQ.ids[1] as string), { status: 'failed', attempts: 0 }, 'its other pending delivery is failed without being sent');
  t.equal(gone.hits.length, 1, 'the receiver was called once');
});

t.test('a redirect is not followed', async (t) => {
  const d = await until('the redirect attempt', async () =>
    (await delivery(redirectQ.ids[0] as string))?.attempts ? delivery(redirectQ.ids[0] as string) : undefined,
  );
  t.match(d, { responseStatus: 307 });
  t.equal(target.hits.length, 0, 'the redirect target never got the request');
});

t.test('no answer within the timeout is a failed attempt', async (t) => {
  const d = await until('the silent attempt', async () =>
    (await delivery(silentQ.ids[0] as string))?.attempts ? delivery(silentQ.ids[0] as string) : undefined,
  );
  t.match(d, { responseStatus: null, lastError: /no answer within 500 ms/ });
});

t.test('retried with backoff until the retry window is over, then failed', async (t) => {
  const d = await until('the give-up', async () =>
    (await delivery(brokenQ.ids[0] as string))?.status === 'failed' ? delivery(brokenQ.ids[0] as string) : undefined,
  );
  t.match(d, { status: 'failed', responseStatus: 503 });
  t.ok((d?.attempts ?? 0) >= 5, `retried several times (${d?.attempts} attempts)`);
  t.equal(broken.hits.length, d?.attempts, 'one request per attempt');
});
