import { getVideoQuery, isQueryError, request } from '@reel/events';
import { keys } from '@reel/storage';
import { Type as T } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError } from '../../errors.ts';
import type { PlaybackGrant } from '../../playback.ts';

const Params = T.Object({ id: T.String({ pattern: '^[0-9a-f-]{36}$' }), rung: T.Optional(T.String({ pattern: '^[a-z0-9]{1,16}$' })) });
const Query = T.Object({ token: T.Optional(T.String({ maxLength: 100 })) });
const schema = { tags: ['playback'], params: Params, querystring: Query };
/** Videos whose visibility is remembered at once (the oldest go first). */
const VISIBILITY_CACHE_SIZE = 10_000;

/**
 * Signed playlists: the token in the link (not a bearer header: players can't send one) is
 * checked, then the stored playlist is rewritten so every URI it names works as given. A link
 * issued while the video was public also needs it to be public still: the catalog is asked at
 * most once per PLAYBACK_RECHECK_SEC per video.
 */
export async function playbackRoutes(app: FastifyInstance): Promise<void> {
  const { storage, playback, nc, config } = app.reel;
  const load = async (key: string) => {
    try {
      return await storage.getText(storage.mediaBucket, key);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'NoSuchKey' || code === 'NotFound') throw new HttpError(404, 'not_found', 'no such video or rendition');
      throw err;
    }
  };
  const visibility = new Map<string, { isPublic: boolean; until: number }>();
  const isStillPublic = async (id: string) => {
    const now = Date.now();
    const hit = visibility.get(id);
    if (hit && hit.until > now) return hit.isPublic;
    let isPublic: boolean;
    try {
      isPublic = (await request(nc, getVideoQuery, { id })).visibility === 'public';
    } catch (err) {
      // the catalog shows a private video to no anonymous viewer: not found means not public (or gone)
      if (!isQueryError(err) || err.code !== 'not_found') throw err;
      isPublic = false;
    }
    visibility.delete(id);
    if (visibility.size >= VISIBILITY_CACHE_SIZE) visibility.delete(visibility.keys().next().value as string);
    visibility.set(id, { isPublic, until: now + config.PLAYBACK_RECHECK_SEC * 1000 });
    return isPublic;
  };
  const check = async (id: string, token: string | undefined): Promise<PlaybackGrant> => {
    const grant = playback.verify(id, token);
    if (!grant) throw new HttpError(403, 'forbidden', token ? 'this playback link has expired or is not valid' : 'this playback link has no token');
    if (grant.scope === 'public' && !(await isStillPublic(id)))
      throw new HttpError(403, 'forbidden', 'this video is no longer public: ask its owner for a new link');
    return grant;
  };
  const send = (reply: FastifyReply, type: string, body: string) =>
    reply.header('Content-Type', type).header('Cache-Control', 'private, max-age=30').header('Access-Control-Allow-Origin', '*').send(body);
  const opts = { schema, onRequest: app.limits.read };

  app.get('/v1/videos/:id/hls/master.m3u8', opts, async (req, reply) => {
    const { id } = req.params as { id: string };
    const { token } = req.query as { token?: string };
    await check(id, token);
    return send(reply, 'application/vnd.apple.mpegurl', playback.master(await load(keys.master(id)), id, token as string));
  });

  app.get('/v1/videos/:id/hls/:rung/index.m3u8', opts, async (req, reply) => {
    const { id, rung } = req.params as { id: string; rung: string };
    const { token } = req.query as { token?: string };
    const { exp } = await check(id, token);
    const key = keys.mediaPlaylist(id, rung);
    const prefix = key.slice(0, key.lastIndexOf('/') + 1);
    return send(reply, 'application/vnd.apple.mpegurl', await playback.media(await load(key), prefix, exp));
  });

  app.get('/v1/videos/:id/storyboard.vtt', opts, async (req, reply) => {
    const { id } = req.params as { id: string };
    const { token } = req.query as { token?: string };
    const { exp } = await check(id, token);
    return send(reply, 'text/vtt', await playback.storyboard(await load(keys.storyboardVtt(id)), keys.storyboard(id), exp));
  });
}
