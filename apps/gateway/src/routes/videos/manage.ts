import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Subjects, Visibility } from '@reel/events';
import { Type as T } from '@sinclair/typebox';
import { publicBaseUrl } from '../../config.ts';
import { HttpError } from '../../errors.ts';
import { requireViewer } from '../../plugins/auth.ts';
import { publishUploaded } from '../../publish-uploaded.ts';
import { VideoIdParams } from '../../schemas/video.ts';
import { loadOwned } from './access.ts';
import { present } from './present.ts';

const Patch = T.Object(
  {
    title: T.Optional(T.String({ minLength: 1, maxLength: 200 })),
    description: T.Optional(T.String({ maxLength: 5000 })),
    visibility: T.Optional(Visibility),
  },
  { additionalProperties: false, minProperties: 1 },
);
const errors = { 400: { $ref: 'Error#' }, 401: { $ref: 'Error#' }, 403: { $ref: 'Error#' }, 404: { $ref: 'Error#' } };
const Accepted = T.Object({ id: T.String(), status: T.Literal('processing') });

/** PATCH, DELETE and retry: the owner's changes, published as events the services act on. */
export const manageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { catalog, publisher, playback, storage, config } = app;
  const baseUrl = publicBaseUrl(config);
  const writeLimit = app.limits.write;

  app.patch(
    '/v1/videos/:id',
    { config: writeLimit, schema: { tags: ['videos'], params: VideoIdParams, body: Patch, response: { 200: { $ref: 'Video#' }, ...errors } } },
    async (req) => {
      const ownerId = requireViewer(req);
      const { id } = req.params;
      const patch = req.body;
      const record = await loadOwned(catalog, id, ownerId);
      await publisher.publish(Subjects.updated, { videoId: id, ownerId, ...patch });
      // the catalog applies the event a moment later; answer with what it will hold
      return present({ ...record, ...patch, updatedAt: new Date().toISOString() }, { playback, storage, baseUrl, mediaPublicUrl: config.MEDIA_PUBLIC_URL });
    },
  );

  app.delete(
    '/v1/videos/:id',
    { config: writeLimit, schema: { tags: ['videos'], params: VideoIdParams, response: { 204: T.Null(), ...errors } } },
    async (req, reply) => {
      const ownerId = requireViewer(req);
      const { id } = req.params;
      await loadOwned(catalog, id, ownerId);
      await publisher.publish(Subjects.deleted, { videoId: id, ownerId }, { id: `${id}.deleted` });
      reply.code(204);
      return null;
    },
  );

  /**
   * Re-drive: a failed video is processed again from its stored source, as a new attempt (the
   * pipeline's events of an attempt carry ids of their own, so none is dropped as a repeat).
   */
  app.post(
    '/v1/videos/:id/retry',
    {
      config: writeLimit,
      schema: {
        tags: ['videos'],
        summary: 'Process a failed video again from its stored source (owner only)',
        params: VideoIdParams,
        response: { 202: Accepted, ...errors, 409: { $ref: 'Error#' } },
      },
    },
    async (req, reply) => {
      const ownerId = requireViewer(req);
      const { id } = req.params;
      const record = await loadOwned(catalog, id, ownerId);
      if (record.status !== 'failed') throw new HttpError(409, 'conflict', `only a failed video can be retried; this one is ${record.status}`);
      const source = record.sourceObject;
      const size = source ? await storage.size(source.bucket, source.key) : undefined;
      if (!source || size === undefined)
        throw new HttpError(409, 'source_gone', 'the uploaded file of this video is no longer stored, so it cannot be processed again: upload it again');
      await publishUploaded(publisher, record, { bucket: source.bucket, key: source.key, size }, (record.attempt ?? 1) + 1);
      reply.code(202).header('Location', `/v1/videos/${id}`);
      return { id, status: 'processing' as const };
    },
  );
};
