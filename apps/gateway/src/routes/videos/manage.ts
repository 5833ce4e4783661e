import { Subjects } from '@reel/events';
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { VideoIdParams } from '../../schemas/video.ts';
import { loadOwned, publicBaseUrl } from './access.ts';
import { present } from './present.ts';

const Patch = T.Object(
  {
    title: T.Optional(T.String({ minLength: 1, maxLength: 200 })),
    description: T.Optional(T.String({ maxLength: 5000 })),
    visibility: T.Optional(T.Union([T.Literal('private'), T.Literal('public')])),
  },
  { additionalProperties: false, minProperties: 1 },
);
const errors = { 400: { $ref: 'Error#' }, 401: { $ref: 'Error#' }, 403: { $ref: 'Error#' }, 404: { $ref: 'Error#' } };

/** PATCH and DELETE: the owner's changes, published as events the services act on. */
export async function manageRoutes(app: FastifyInstance): Promise<void> {
  const { auth, nc, publisher, playback, storage, config } = app.reel;
  const baseUrl = publicBaseUrl(config);
  const writeLimit = { rateLimit: { max: config.RATE_LIMIT_WRITES_PER_MIN, timeWindow: 60_000 } };

  app.patch(
    '/v1/videos/:id',
    { config: writeLimit, schema: { tags: ['videos'], params: VideoIdParams, body: Patch, response: { 200: { $ref: 'Video#' }, ...errors } } },
    async (req) => {
      const ownerId = await auth.require(req.headers.authorization);
      const { id } = req.params as { id: string };
      const patch = req.body as { title?: string; description?: string; visibility?: 'private' | 'public' };
      const record = await loadOwned(nc, id, ownerId);
      await publisher.publish(Subjects.updated, { videoId: id, ownerId, ...patch });
      // the catalog applies the event a moment later; answer with what it will hold
      return present({ ...record, ...patch, updatedAt: new Date().toISOString() }, { playback, storage, baseUrl });
    },
  );

  app.delete(
    '/v1/videos/:id',
    { config: writeLimit, schema: { tags: ['videos'], params: VideoIdParams, response: { 204: T.Null(), ...errors } } },
    async (req, reply) => {
      const ownerId = await auth.require(req.headers.authorization);
      const { id } = req.params as { id: string };
      await loadOwned(nc, id, ownerId);
      await publisher.publish(Subjects.deleted, { videoId: id, ownerId }, { id: `${id}.deleted` });
      reply.code(204);
      return null;
    },
  );
}
