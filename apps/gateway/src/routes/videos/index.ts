import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Subjects, titleFromFilename, VideoStatus, Visibility } from '@reel/events';
import { keys, SourceEndedError } from '@reel/storage';
import { Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { publicBaseUrl } from '../../config.ts';
import { HttpError } from '../../errors.ts';
import { requireViewer, viewerOf } from '../../plugins/auth.ts';
import { VideoIdParams } from '../../schemas/video.ts';
import { present } from './present.ts';

const Accepted = T.Object({ id: T.String(), status: T.Literal('processing') });
const ListQuery = T.Object({
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: T.Optional(T.String({ maxLength: 200 })),
  q: T.Optional(T.String({ maxLength: 200 })),
  status: T.Optional(VideoStatus),
});
const PublicListQuery = T.Object({
  limit: T.Optional(T.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: T.Optional(T.String({ maxLength: 200 })),
});
const errors = { 400: { $ref: 'Error#' }, 401: { $ref: 'Error#' }, 404: { $ref: 'Error#' } };

function readFields(fields: Record<string, string>, filename: string | undefined) {
  const title = titleFromFilename(fields.title, filename);
  const description = fields.description ?? '';
  if (description.length > 5000) throw new HttpError(400, 'bad_request', 'description is longer than 5000 characters');
  const visibility = fields.visibility ?? 'private';
  if (!Value.Check(Visibility, visibility)) throw new HttpError(400, 'bad_request', 'visibility must be "private", "unlisted" or "public"');
  return { title, description, visibility };
}

/**
 * At most this much of a form may follow its file part (the fields allowed are far smaller): the
 * file's bytes up to the Content-Length less this are sure to come, and are streamed to storage
 * without a copy (putStream's `remaining`).
 */
const FORM_AFTER_FILE = 1024 * 1024;

const tooLarge = (limit: number) => new HttpError(413, 'too_large', `the file is larger than the limit of ${limit} bytes`);

export const videoRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { storage, publisher, catalog, config, playback } = app;
  const baseUrl = publicBaseUrl(config);
  const writeLimit = app.limits.write;

  /**
   * Multipart upload: the `file` part is streamed to storage as it arrives (never buffered whole,
   * never written to the gateway's disk); the object key comes from the new video id only.
   */
  app.post(
    '/v1/videos',
    {
      config: writeLimit,
      schema: { tags: ['videos'], consumes: ['multipart/form-data'], response: { 202: Accepted, ...errors, 413: { $ref: 'Error#' }, 415: { $ref: 'Error#' } } },
    },
    async (req, reply) => {
      const ownerId = requireViewer(req);
      if (!req.isMultipart()) throw new HttpError(415, 'unsupported_media_type', 'send multipart/form-data with the video in a "file" part');
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > config.MAX_UPLOAD_BYTES + 64 * 1024)
        throw new HttpError(413, 'too_large', `the upload is larger than the limit of ${config.MAX_UPLOAD_BYTES} bytes`);
      const videoId = randomUUID();
      const key = keys.source(videoId);
      const fields: Record<string, string> = {};
      let file: { size: number; filename?: string; contentType?: string } | undefined;
      // the body's bytes read so far; attached in the same tick as req.parts() pipes the body into
      // its parser, so both see every chunk
      let read = 0;
      req.raw.on('data', (chunk: Buffer) => {
        read += chunk.length;
      });
      const remaining = declared > 0 ? () => declared - read - FORM_AFTER_FILE : undefined;
      try {
        for await (const part of req.parts()) {
          if (part.type !== 'file') {
            fields[part.fieldname] = String(part.value);
            continue;
          }
          if (part.fieldname !== 'file' || file) {
            part.file.resume();
            continue;
          }
          // past the limit, stop at once: destroying the part unpipes the request, so the rest of
          // the body is never read, and putStream aborts its multipart upload
          part.file.once('limit', () => part.file.destroy(tooLarge(config.MAX_UPLOAD_BYTES)));
          const size = await storage.putStream(storage.sourceBucket, key, part.file, part.mimetype, remaining).catch((err: unknown) => {
            if (!(err instanceof SourceEndedError)) throw err;
            throw new HttpError(400, 'bad_request', `more than ${FORM_AFTER_FILE} bytes of the form follow its file part: send the file last`);
          });
          file = { size, filename: part.filename, contentType: part.mimetype };
        }
        if (!file) throw new HttpError(400, 'bad_request', 'the form has no "file" part');
        const meta = readFields(fields, file.filename);
        await publisher.publish(
          Subjects.uploaded,
          {
            videoId,
            ownerId,
            ...meta,
            source: {
              bucket: storage.sourceBucket,
              key,
              size: file.size,
              ...(file.filename ? { filename: file.filename.slice(0, 512) } : {}),
              ...(file.contentType ? { contentType: file.contentType.slice(0, 256) } : {}),
            },
          },
          { id: `${videoId}.uploaded` },
        );
      } catch (err) {
        // nothing of a refused upload is kept
        await storage.remove(storage.sourceBucket, key).catch((e: unknown) => req.log.warn({ err: e, key }, 'could not remove a refused upload'));
        // the rest of the body is not wanted: close the connection instead of reading it (errors.ts
        // maps the error: the limit 413, malformed multipart 400, storage down 503)
        if (!req.raw.complete) reply.header('connection', 'close');
        throw err;
      }
      reply.code(202).header('Location', `/v1/videos/${videoId}`);
      return { id: videoId, status: 'processing' as const };
    },
  );

  app.get(
    '/v1/videos/:id',
    { onRequest: app.limits.read, schema: { tags: ['videos'], params: VideoIdParams, response: { 200: { $ref: 'Video#' }, ...errors } } },
    async (req) => {
      const record = await catalog.get(req.params.id, viewerOf(req));
      return present(record, { playback, storage, baseUrl, mediaPublicUrl: config.MEDIA_PUBLIC_URL });
    },
  );

  app.get(
    '/v1/videos',
    {
      onRequest: app.limits.read,
      schema: {
        tags: ['videos'],
        querystring: ListQuery,
        response: { 200: T.Object({ items: T.Array(T.Ref('Video')), nextCursor: T.Union([T.String(), T.Null()]) }), ...errors },
      },
    },
    async (req) => {
      const ownerId = requireViewer(req);
      const q = req.query;
      const page = await catalog.list({
        ownerId,
        limit: q.limit ?? 20,
        ...(q.cursor ? { cursor: q.cursor } : {}),
        ...(q.q ? { q: q.q } : {}),
        ...(q.status ? { status: q.status } : {}),
      });
      return {
        items: await Promise.all(page.items.map((v) => present(v, { playback, storage, baseUrl, mediaPublicUrl: config.MEDIA_PUBLIC_URL }))),
        nextCursor: page.nextCursor,
      };
    },
  );

  /** The latest public, ready videos: what a visitor without a token sees on the page (never unlisted ones). */
  app.get(
    '/v1/public/videos',
    {
      onRequest: app.limits.read,
      schema: {
        tags: ['videos'],
        security: [],
        querystring: PublicListQuery,
        response: { 200: T.Object({ items: T.Array(T.Ref('Video')), nextCursor: T.Union([T.String(), T.Null()]) }), 400: { $ref: 'Error#' } },
      },
    },
    async (req) => {
      const page = await catalog.listPublic({ limit: req.query.limit ?? 20, ...(req.query.cursor ? { cursor: req.query.cursor } : {}) });
      const deps = { playback, storage, baseUrl, mediaPublicUrl: config.MEDIA_PUBLIC_URL };
      return { items: await Promise.all(page.items.map((v) => present(v, deps))), nextCursor: page.nextCursor };
    },
  );
};
