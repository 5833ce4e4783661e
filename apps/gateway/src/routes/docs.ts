import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

/** The API's own descriptions (the page at /docs comes from @fastify/swagger-ui). */
export const docsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};
