import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type as T } from '@sinclair/typebox';

const SERVICES = ['ingest', 'transcoder', 'packager', 'catalog', 'webhooks'] as const;

const Health = T.Object({
  status: T.Union([T.Literal('ok'), T.Literal('degraded')]),
  services: T.Record(T.String(), T.Union([T.Literal('up'), T.Literal('down')])),
});

/** How long one round of asking the services answers every health request (a flood of them costs one round). */
const REUSE_MS = 500;

/** GET /v1/health: asks every service for its liveness over NATS; one that does not answer is "down". */
export const healthRoutes: FastifyPluginAsyncTypebox<{ timeoutMs: number }> = async (app, opts) => {
  type Answer = { status: 'ok' | 'degraded'; services: Record<string, 'up' | 'down'> };
  let current: Promise<Answer> | undefined;
  let doneAt = 0; // 0 while a round is running
  const probe = async (): Promise<Answer> => {
    const answers = await Promise.all(SERVICES.map(async (s) => ((await app.liveness.isUp(s, opts.timeoutMs)) ? ('up' as const) : ('down' as const))));
    const services: Record<string, 'up' | 'down'> = { gateway: 'up' };
    SERVICES.forEach((s, i) => {
      services[s] = answers[i] ?? 'down';
    });
    return { status: answers.every((a) => a === 'up') ? 'ok' : 'degraded', services };
  };
  app.get('/v1/health', { schema: { tags: ['health'], response: { 200: Health } } }, async () => {
    // a round still running, or finished a moment ago, is the answer: no NATS requests per HTTP request
    if (!current || (doneAt && Date.now() - doneAt > REUSE_MS)) {
      doneAt = 0;
      current = probe().finally(() => {
        doneAt = Date.now();
      });
    }
    return current;
  });
};
