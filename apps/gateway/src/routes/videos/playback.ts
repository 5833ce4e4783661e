import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isQueryError, VideoId } from '@reel/events';
import { keys } from '@reel/storage';
import { Type as T } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { HttpError } from '../../errors.ts';
import type { PlaybackGrant } from '../../playback.ts';

const Params = T.Object({ id: VideoId });
const RungParams = T.Object({ id: VideoId, rung: T.String({ pattern: '^[a-z0-9]{1,16}$' }) });
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
export const playbackRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { storage, playback, catalog, config } = app;
  const load = async (key: string) => {
    try {
      return await storage.getText(storage.mediaBucket, key);
    } catch (err) {
      const code = err && typeof err === 'object' && 'code' in err ? err.code : undefined;
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
      // unlisted is public to whoever holds the link
      isPublic = (await catalog.get(id)).visibility !== 'private';
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
  /** The grant of a link's token, and the token (a link without a valid one is refused). */
  const check = async (id: string, token: string | undefined): Promise<PlaybackGrant & { token: string }> => {
    const grant = playback.verify(id, token);
    if (!token || !grant) throw new HttpError(403, 'forbidden', token ? 'this playback link has expired or is not valid' : 'this playback link has no token');
    if (grant.scope === 'public' && !(await isStillPublic(id)))
      throw new HttpError(403, 'forbidden', 'this video is no longer public: ask its owner for a new link');
    return { ...grant, token };
  };
  // a media playlist still growing (EVENT, no ENDLIST yet) is reloaded by the player: never from a cache
  const send = (reply: FastifyReply, type: string, body: string, growing = false) =>
    reply
      .header('Content-Type', type)
      .header('Cache-Control', growing ? 'no-cache' : 'private, max-age=30')
      .header('Access-Control-Allow-Origin', '*')
      .send(body);
  const opts = { schema, onRequest: app.limits.read };

  app.get('/v1/videos/:id/hls/master.m3u8', opts, async (req, reply) => {
    const { id } = req.params;
    const { token } = await check(id, req.query.token);
    return send(reply, 'application/vnd.apple.mpegurl', playback.master(await load(keys.master(id)), id, token));
  });

  app.get('/v1/videos/:id/hls/:rung/index.m3u8', { ...opts, schema: { ...schema, params: RungParams } }, async (req, reply) => {
    const { id, rung } = req.params;
    const { exp } = await check(id, req.query.token);
    const key = keys.mediaPlaylist(id, rung);
    const prefix = key.slice(0, key.lastIndexOf('/') + 1);
    const text = await load(key);
    return send(reply, 'application/vnd.apple.mpegurl', await playback.media(text, prefix, exp), !text.includes('#EXT-X-ENDLIST'));
  });

  app.get('/v1/videos/:id/storyboard.vtt', opts, async (req, reply) => {
    const { id } = req.params;
    const { exp } = await check(id, req.query.token);
    const key = keys.storyboardVtt(id);
    return send(reply, 'text/vtt', await playback.storyboard(await load(key), key.slice(0, key.lastIndexOf('/') + 1), exp));
  });
};
