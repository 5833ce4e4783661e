import { keys } from '@reel/storage';
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError } from '../../errors.ts';

const Params = T.Object({ id: T.String({ pattern: '^[0-9a-f-]{36}$' }), rung: T.Optional(T.String({ pattern: '^[a-z0-9]{1,16}$' })) });
const Query = T.Object({ token: T.Optional(T.String({ maxLength: 100 })) });
const schema = { tags: ['playback'], params: Params, querystring: Query };

/**
 * Signed playlists: the token in the link (not a bearer header: players can't send one) is
 * checked, then the stored playlist is rewritten so every URI it names works as given.
 */
export async function playbackRoutes(app: FastifyInstance): Promise<void> {
  const { storage, playback } = app.reel;
  const load = async (key: string) => {
    try {
      return await storage.getText(storage.mediaBucket, key);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'NoSuchKey' || code === 'NotFound') throw new HttpError(404, 'not_found', 'no such video or rendition');
      throw err;
    }
  };
  const check = (id: string, token: string | undefined) => {
    const exp = playback.verify(id, token);
    if (!exp) throw new HttpError(403, 'forbidden', token ? 'this playback link has expired or is not valid' : 'this playback link has no token');
    return exp;
  };
  const send = (reply: FastifyReply, type: string, body: string) =>
    reply.header('Content-Type', type).header('Cache-Control', 'private, max-age=30').header('Access-Control-Allow-Origin', '*').send(body);

  app.get('/v1/videos/:id/hls/master.m3u8', { schema }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const { token } = req.query as { token?: string };
    check(id, token);
    return send(reply, 'application/vnd.apple.mpegurl', playback.master(await load(keys.master(id)), id, token as string));
  });

  app.get('/v1/videos/:id/hls/:rung/index.m3u8', { schema }, async (req, reply) => {
    const { id, rung } = req.params as { id: string; rung: string };
    const { token } = req.query as { token?: string };
    const exp = check(id, token);
    const key = keys.mediaPlaylist(id, rung);
    const prefix = key.slice(0, key.lastIndexOf('/') + 1);
    return send(reply, 'application/vnd.apple.mpegurl', await playback.media(await load(key), prefix, exp));
  });

  app.get('/v1/videos/:id/storyboard.vtt', { schema }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const { token } = req.query as { token?: string };
    const exp = check(id, token);
    return send(reply, 'text/vtt', await playback.storyboard(await load(keys.storyboardVtt(id)), keys.storyboard(id), exp));
  });
}
