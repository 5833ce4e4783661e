import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger, Publisher } from '@reel/events';
import type { ConfigOf } from '@reel/runtime';
import type { Storage } from '@reel/storage';
import type { NatsConnection } from '@nats-io/transport-node';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import type { configSpec } from './config.ts';
import { toHttp } from './errors.ts';
import type { LiveFeed } from './live.ts';
import type { Playback } from './playback.ts';
import { type Authenticator, authPlugin } from './plugins/auth.ts';
import { livePlugin, playbackPlugin, publisherPlugin, servicesPlugin, storagePlugin, type SweepOptions, viewsPlugin } from './plugins/infrastructure.ts';
import { limitsPlugin } from './plugins/rate-limit.ts';
import { tracingPlugin } from './plugins/tracing.ts';
import { docsRoutes } from './routes/docs.ts';
import { embedRoutes } from './routes/embed.ts';
import { healthRoutes } from './routes/health.ts';
import { tusRoutes } from './routes/tus.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { eventRoutes } from './routes/videos/events.ts';
import { videoRoutes } from './routes/videos/index.ts';
import { manageRoutes } from './routes/videos/manage.ts';
import { playbackRoutes } from './routes/videos/playback.ts';
import { viewRoutes } from './routes/videos/views.ts';
import { webRoutes } from './routes/web.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { ErrorBody, VideoBody } from './schemas/video.ts';
import type { Catalog, Liveness } from './services.ts';
import type { ViewCounter } from './views.ts';

export type GatewayConfig = ConfigOf<typeof configSpec>;

/**
 * What the gateway is built from. The catalog, the liveness probe and the live feed are built on
 * `nc` unless given (tests give fakes); what the gateway builds it closes, what it is given it does not.
 */
export interface GatewayDeps {
  config: GatewayConfig;
  log: Logger;
  publisher: Publisher;
  storage: Storage;
  auth: Authenticator;
  playback: Playback;
  nc?: NatsConnection;
  catalog?: Catalog;
  liveness?: Liveness;
  live?: LiveFeed;
  /** Which views count; default shared through NATS (tests give one in memory). */
  views?: ViewCounter;
  /** Sweep stale multipart uploads while the app runs (server.ts). */
  sweep?: SweepOptions;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: GatewayConfig;
  }
}

/** Trust the nearest `n` proxies (Fastify takes a number too, but its types do not say so). */
const hops = (n: number) => (_address: string, hop: number) => hop < n;

/** The whole public API as one Fastify instance; server.ts is the only place that listens. */
export async function buildGateway(deps: GatewayDeps) {
  const { config, log } = deps;
  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // X-Forwarded-For only from the proxies TRUST_PROXY names: otherwise anyone could pick the address rate limits key on
    trustProxy: typeof config.TRUST_PROXY === 'number' ? hops(config.TRUST_PROXY) : config.TRUST_PROXY,
    // SSE streams are long-lived: shutdown must not wait for their clients
    forceCloseConnections: true,
    // requests are logged by the tracing plugin instead, with tokens taken out of the URL
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('config', config);

  // infrastructure, decorated on the app
  await app.register(tracingPlugin);
  await app.register(servicesPlugin, { nc: deps.nc, catalog: deps.catalog, liveness: deps.liveness });
  await app.register(storagePlugin, { storage: deps.storage, log, sweep: deps.sweep });
  await app.register(publisherPlugin, { publisher: deps.publisher });
  await app.register(playbackPlugin, { playback: deps.playback });
  await app.register(livePlugin, { live: deps.live, nc: deps.nc, log });
  await app.register(viewsPlugin, { views: deps.views, nc: deps.nc });

  // cross-cutting: who the caller is, how much they may ask, the API's shapes
  await app.register(authPlugin, { auth: deps.auth });
  await app.register(limitsPlugin, config);
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
  await app.register(multipart, {
    limits: { fileSize: config.MAX_UPLOAD_BYTES, files: 1, fields: 10, fieldSize: 16 * 1024, parts: 12 },
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

  // the routes
  await app.register(healthRoutes, { timeoutMs: config.HEALTH_TIMEOUT_MS });
  await app.register(videoRoutes);
  await app.register(manageRoutes);
  await app.register(uploadRoutes);
  await app.register(tusRoutes, { nc: deps.nc });
  await app.register(eventRoutes);
  await app.register(playbackRoutes);
  await app.register(viewRoutes);
  await app.register(webhookRoutes, { nc: deps.nc });
  await app.register(webRoutes);
  await app.register(embedRoutes);
  await app.register(docsRoutes);
  return app;
}

export type GatewayApp = Awaited<ReturnType<typeof buildGateway>>;
