import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isVideoId, Subjects, titleFromFilename, Visibility } from '@reel/events';
import { keys } from '@reel/storage';
import { Type as T } from '@sinclair/typebox';
import { HttpError } from '../errors.ts';
import { requireViewer } from '../plugins/auth.ts';
import { publishUploaded } from '../publish-uploaded.ts';
import { loadOwned } from './videos/access.ts';

const Create = T.Object(
  {
    title: T.Optional(T.String({ maxLength: 200 })),
    description: T.Optional(T.String({ maxLength: 5000 })),
    visibility: T.Optional(Visibility),
    filename: T.Optional(T.String({ maxLength: 512 })),
    size: T.Integer({ minimum: 0, description: 'bytes the client will send' }),
  },
  { additionalProperties: false },
);
const Created = T.Object({
  videoId: T.String(),
  url: T.String({ description: 'presigned URL: send exactly `size` bytes with this method, straight to storage (any other length is refused)' }),
  method: T.Literal('PUT'),
  headers: T.Record(T.String(), T.String()),
  expiresAt: T.String(),
});
const errors = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  403: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  413: { $ref: 'Error#' },
};

/**
 * Direct uploads: the client gets a presigned PUT and sends the bytes to S3/MinIO itself, then
 * calls complete; nothing is published until the object is there and within the limits. A video
 * never completed is removed when its URL expires (the catalog's sweeper).
 *
 * The URL's signature covers the declared length, so storage refuses any other size; it writes a
 * key of its own (keys.directUpload), which complete copies to the source and removes: the URL
 * stays valid until it expires, but nothing it writes afterwards is ever read.
 */
export const uploadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { storage, publisher, catalog, config } = app;
  const writeLimit = app.limits.write;

  app.post('/v1/uploads', { config: writeLimit, schema: { tags: ['uploads'], body: Create, response: { 201: Created, ...errors } } }, async (req, reply) => {
    const ownerId = requireViewer(req);
    const { body } = req;
    if (body.size > config.MAX_UPLOAD_BYTES) throw new HttpError(413, 'too_large', `${body.size} bytes is more than the limit of ${config.MAX_UPLOAD_BYTES}`);
    const videoId = randomUUID();
    const expiresAt = new Date(Date.now() + config.UPLOAD_URL_TTL_SEC * 1000);
    const url = await storage.presignPut(storage.sourceBucket, keys.directUpload(videoId), config.UPLOAD_URL_TTL_SEC, body.size);
    const title = titleFromFilename(body.title, body.filename);
    await publisher.publish(
      Subjects.created,
      {
        videoId,
        ownerId,
        title,
        description: body.description ?? '',
        visibility: body.visibility ?? 'private',
        upload: { method: 'presigned', expiresAt: expiresAt.toISOString() },
      },
      { id: `${videoId}.created` },
    );
    reply.code(201).header('Location', `/v1/videos/${videoId}`);
    return { videoId, url, method: 'PUT' as const, headers: {}, expiresAt: expiresAt.toISOString() };
  });

  app.post(
    '/v1/uploads/:videoId/complete',
    {
      config: writeLimit,
      schema: {
        tags: ['uploads'],
        params: T.Object({ videoId: T.String({ maxLength: 64 }) }),
        response: { 202: T.Object({ id: T.String(), status: T.Literal('processing') }), ...errors },
      },
    },
    async (req, reply) => {
      const ownerId = requireViewer(req);
      const { videoId } = req.params;
      // not a video id: no such video (before it reaches a query or an object key)
      if (!isVideoId(videoId)) throw new HttpError(404, 'not_found', 'no such video');
      const record = await loadOwned(catalog, videoId, ownerId);
      if (record.status !== 'waiting_upload') throw new HttpError(409, 'conflict', `the video is ${record.status}, not waiting for its upload`);
      const uploaded = keys.directUpload(videoId);
      const size = await storage.size(storage.sourceBucket, uploaded);
      if (size === undefined) throw new HttpError(409, 'upload_missing', 'no bytes have arrived for this video: PUT the file to the upload URL first');
      if (size > config.MAX_UPLOAD_BYTES) {
        await storage.removePrefix(storage.sourceBucket, keys.sourcePrefix(videoId));
        throw new HttpError(413, 'too_large', `the file is ${size} bytes; the limit is ${config.MAX_UPLOAD_BYTES}`);
      }
      // pin what was checked where the client's URL cannot write: a later PUT changes nothing read
      const key = keys.source(videoId);
      await storage.copy(storage.sourceBucket, uploaded, key);
      await storage.remove(storage.sourceBucket, uploaded);
      const pinned = await storage.size(storage.sourceBucket, key);
      if (pinned === undefined) throw new HttpError(409, 'upload_missing', 'the upload disappeared while it was being completed; try again');
      await publishUploaded(publisher, record, { bucket: storage.sourceBucket, key, size: pinned });
      reply.code(202);
      return { id: videoId, status: 'processing' as const };
    },
  );
};
