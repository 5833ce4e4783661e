import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isQueryError, Subjects } from '@reel/events';
import { Type as T } from '@sinclair/typebox';
import { viewerOf } from '../../plugins/auth.ts';
import { VideoIdParams } from '../../schemas/video.ts';

const Query = T.Object({ access_token: T.Optional(T.String({ maxLength: 4096 })) });
const FINAL = new Set(['ready', 'failed']);
/**
 * GET /v1/videos/:id/events — Server-Sent Events: `status` with the video at once, `progress`
 * as each stage reports, then `ready` or `failed` with the final video, and the stream ends.
 * EventSource cannot send headers, so the token may also come as `?access_token=`.
 */
export const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { catalog, live } = app;
  app.get(
    '/v1/videos/:id/events',
    {
      onRequest: app.limits.read,
      config: { tokenInQuery: true },
      schema: { tags: ['videos'], params: VideoIdParams, querystring: Query, produces: ['text/event-stream'] },
    },
    async (req, reply) => {
      const { id } = req.params;
      const viewer = viewerOf(req);
      const get = () => catalog.get(id, viewer);
      const first = await get(); // 404 before the stream opens (a just-announced video is waited for)
      // a stream costs a socket and a listener for as long as the client likes: a few per caller
      const release = app.limits.openStream(req);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'access-control-allow-origin': req.headers.origin ?? '*',
        'x-accel-buffering': 'no',
      });
      const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      let closed = false;
      const cleanup: (() => void)[] = [release];
      const end = () => {
        if (closed) return;
        closed = true;
        for (const c of cleanup) c();
        res.end();
      };
      req.raw.on('close', end);
      const summary = (v: Awaited<ReturnType<typeof get>>) => ({ id: v.id, status: v.status, progress: v.progress, error: v.error });
      send('status', summary(first));
      if (FINAL.has(first.status)) return end();
      let checking = false;
      // the catalog projects an event a moment after it is published: look again shortly after
      const recheck = () => {
        if (checking || closed) return;
        checking = true;
        setTimeout(() => {
          get()
            .then((v) => {
              if (closed) return;
              if (FINAL.has(v.status)) {
                send(v.status, summary(v));
                end();
              }
            })
            .catch((err) => {
              if (isQueryError(err) && err.code === 'not_found') end();
            })
            .finally(() => {
              checking = false;
            });
        }, 150);
      };
      cleanup.push(
        live.listen(id, (env) => {
          if (closed) return;
          if (env.type === Subjects.progress) send('progress', env.data);
          else recheck();
        }),
      );
      const beat = setInterval(() => {
        res.write(': keep-alive\n\n');
        recheck();
      }, 15_000);
      cleanup.push(() => clearInterval(beat));
    },
  );
};
