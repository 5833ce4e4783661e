import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger, Publisher } from '@reel/events';
import type { ConfigOf } from '@reel/runtime';
import type { Storage } from '@reel/storage';
import type { NatsConnection } from '@nats-io/transport-node';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { configSpec } from './config.ts';
import { toHttp } from './errors.ts';
import type { Authenticator } from './plugins/auth.ts';
import { registerLimits } from './plugins/rate-limit.ts';
import { traceRequests } from './plugins/tracing.ts';
import type { LiveFeed } from './live.ts';
import type { Playback } from './playback.ts';
import { healthRoutes } from './routes/health.ts';
import { tusRoutes } from './routes/tus.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { eventRoutes } from './routes/videos/events.ts';
import { videoRoutes } from './routes/videos/index.ts';
import { manageRoutes } from './routes/videos/manage.ts';
import { playbackRoutes } from './routes/videos/playback.ts';
import { webRoutes } from './routes/web.ts';
import { ErrorBody, VideoBody } from './schemas/video.ts';

export type GatewayConfig = ConfigOf<typeof configSpec>;

/** What the routes use; tests build the app with real ones against the test stack. */
export interface GatewayDeps {
  config: GatewayConfig;
  log: Logger;
  nc: NatsConnection;
  publisher: Publisher;
  storage: Storage;
  auth: Authenticator;
  playback: Playback;
  live: LiveFeed;
}

declare module 'fastify' {
  interface FastifyInstance {
    reel: GatewayDeps;
  }
}

/** Trust the nearest `n` proxies (Fastify takes a number too, but its types do not say so). */
const hops = (n: number) => (_address: string, hop: number) => hop < n;

/** The whole public API as one Fastify instance; main.ts is the only place that listens. */
export async function buildGateway(deps: GatewayDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // X-Forwarded-For only from the proxies TRUST_PROXY names: otherwise anyone could pick the address rate limits key on
    trustProxy: typeof deps.config.TRUST_PROXY === 'number' ? hops(deps.config.TRUST_PROXY) : deps.config.TRUST_PROXY,
    // SSE streams are long-lived: shutdown must not wait for their clients
    forceCloseConnections: true,
    // requests are logged by traceRequests' hook instead, with tokens taken out of the URL
    disableRequestLogging: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' } },
  });
  app.decorate('reel', deps);
  traceRequests(app);
  app.addSchema(ErrorBody);
  app.addSchema(VideoBody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Reel API', version: '1.0.0', description: 'Upload videos, follow their processing, play them as adaptive HLS.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(cors, { origin: true, exposedHeaders: ['Location'], maxAge: 600 });
  await registerLimits(app, deps.auth, deps.config);
  await app.register(multipart, {
    limits: { fileSize: deps.config.MAX_UPLOAD_BYTES, files: 1, fields: 10, fieldSize: 16 * 1024, parts: 12 },
  });
  app.setErrorHandler((err, req, reply) => {
    const { status, code, message, retryAfterSec } = toHttp(err);
    if (status === 503) req.log.warn({ err }, 'request failed: a dependency is unavailable');
    else if (status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code, message }, 'request refused');
    if (retryAfterSec !== undefined) reply.header('Retry-After', String(retryAfterSec));
    reply.code(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
  await app.register(healthRoutes, { timeoutMs: deps.config.HEALTH_TIMEOUT_MS });
  await app.register(videoRoutes);
  await app.register(manageRoutes);
  await app.register(uploadRoutes);
  await app.register(tusRoutes);
  await app.register(eventRoutes);
  await app.register(playbackRoutes);
  await app.register(webRoutes);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
