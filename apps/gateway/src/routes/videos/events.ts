import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isFinalStatus, isQueryError, Subjects } from '@reel/events';
import { Type as T } from '@sinclair/typebox';
import { viewerOf } from '../../plugins/auth.ts';
import { VideoIdParams } from '../../schemas/video.ts';

const Query = T.Object({ access_token: T.Optional(T.String({ maxLength: 4096 })) });
/** How often the catalog is asked again after an event it has not projected yet (150 ms apart). */
const CATCH_UP_TRIES = 20;
/**
 * GET /v1/videos/:id/events — Server-Sent Events: `status` with the video at once, `progress`
 * as each stage reports, `playable` once (as soon as the video can be played, while still
 * processing, or at once if it already can), then `ready` or `failed` with the final video, and the
 * stream ends.
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
      const summary = (v: Awaited<ReturnType<typeof get>>) => ({
        id: v.id,
        status: v.status,
        playable: v.playable === true,
        progress: v.progress,
        error: v.error,
      });
      send('status', summary(first));
      if (isFinalStatus(first.status)) return end();
      let playableSent = false;
      const announcePlayable = (v: Awaited<ReturnType<typeof get>>) => {
        if (playableSent || !v.playable) return;
        playableSent = true;
        send('playable', summary(v));
      };
      announcePlayable(first);
      let checking = false;
      /** Tries left to see the catalog catch up with an event that changes what is shown, and what it should show. */
      let catchUp = 0;
      let awaiting: 'playable' | 'final' | undefined;
      // the catalog projects an event a moment after it is published: look again shortly after
      const recheck = () => {
        if (checking || closed) return;
        checking = true;
        setTimeout(() => {
          get()
            .then((v) => {
              if (closed) return;
              announcePlayable(v);
              if (isFinalStatus(v.status)) {
                send(v.status, summary(v));
                end();
              }
            })
            .catch((err) => {
              if (isQueryError(err) && err.code === 'not_found') end();
            })
            .finally(() => {
              checking = false;
              const waiting = awaiting === 'final' || (awaiting === 'playable' && !playableSent);
              if (catchUp > 0 && waiting && !closed) {
                catchUp--;
                recheck();
              }
            });
        }, 150);
      };
      cleanup.push(
        live.listen(id, (env) => {
          if (closed) return;
          if (env.type === Subjects.progress) return void send('progress', env.data);
          if (env.type === Subjects.viewed) return; // nothing a follower of its processing needs
          // the page starts playing on `playable` and stops following on `failed`: ask until the
          // catalog shows it (3 s at most), not only at the next heartbeat
          if (env.type === Subjects.failed || (env.type === Subjects.playable && !playableSent)) {
            awaiting = env.type === Subjects.failed ? 'final' : (awaiting ?? 'playable');
            catchUp = CATCH_UP_TRIES;
          }
          recheck();
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
