import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { asyncApiDocument } from '@reel/events/asyncapi';

/** The platform's own descriptions: the HTTP API (the page at /docs comes from @fastify/swagger-ui) and the events. */
export const docsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // generated from the registry once: the contract does not change while the process runs
  const asyncApi = asyncApiDocument();
  app.get('/asyncapi.json', { schema: { hide: true } }, async () => asyncApi);
};
