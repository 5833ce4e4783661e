import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Subjects } from '@reel/events';
import { Type as T } from '@sinclair/typebox';
import { playbackSecret } from '../../config.ts';
import { HttpError } from '../../errors.ts';
import { viewerOf } from '../../plugins/auth.ts';
import { VideoIdParams } from '../../schemas/video.ts';
import { VIEW_WINDOW_MS, viewerKey } from '../../views.ts';

const Counted = T.Object({ counted: T.Boolean({ description: 'false when this viewer was counted for this video in the last 30 minutes' }) });
const errors = { 401: { $ref: 'Error#' }, 404: { $ref: 'Error#' }, 409: { $ref: 'Error#' } };

/**
 * POST /v1/videos/:id/views — the player's view beacon. Whoever may watch the video may send it
 * (its owner, anyone for a public video; no token needed then); the first of a viewer per video per
 * 30 minutes is counted and published as `video.viewed`, the catalog counts them into `views`.
 */
export const viewRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { catalog, publisher, views } = app;
  const secret = playbackSecret(app.config);
  app.post(
    '/v1/videos/:id/views',
    { onRequest: app.limits.read, schema: { tags: ['videos'], params: VideoIdParams, response: { 202: Counted, ...errors } } },
    async (req, reply) => {
      const { id } = req.params;
      const userId = viewerOf(req);
      const video = await catalog.get(id, userId);
      if (video.status !== 'ready' && !video.playable) throw new HttpError(409, 'not_playable', 'this video does not play yet');
      const viewer = viewerKey(secret, { userId, ip: req.ip, userAgent: req.headers['user-agent'] });
      const now = Date.now();
      const counted = await views.count(id, viewer, now);
      if (counted) {
        // two counted views of one viewer are a window apart: the id is theirs alone, and a retried publish a duplicate
        await publisher.publish(
          Subjects.viewed,
          { videoId: id, ownerId: video.ownerId, viewer },
          { id: `${id}.viewed.${viewer}.${Math.floor(now / VIEW_WINDOW_MS)}` },
        );
      }
      return reply.code(202).send({ counted });
    },
  );
};
