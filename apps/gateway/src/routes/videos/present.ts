import type { VideoRecord } from '@reel/events';
import type { Static } from '@sinclair/typebox';
import type { Playback } from '../../playback.ts';
import type { VideoBody } from '../../schemas/video.ts';
import type { Storage } from '@reel/storage';

type PlaybackLinks = NonNullable<Static<typeof VideoBody>['playback']>;

/**
 * Signed links reused for the first half of their lifetime (a presigned URL is an HMAC chain per
 * object): per signer, so apps (and tests) with their own signer never share links.
 */
const signed = new WeakMap<Playback, Map<string, { links: PlaybackLinks; renewAt: number }>>();
const MAX_CACHED = 10_000;

function cacheOf(playback: Playback) {
  const cache = signed.get(playback) ?? new Map();
  signed.set(playback, cache);
  return cache;
}

/** Turns a catalog record into the API's video, with playback URLs a player can use as they are. */
export async function present(v: VideoRecord, deps: { playback: Playback; storage: Storage; baseUrl: string }): Promise<Static<typeof VideoBody>> {
  const body: Static<typeof VideoBody> = {
    id: v.id,
    title: v.title,
    description: v.description,
    visibility: v.visibility,
    status: v.status,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
  };
  if (v.error) body.error = v.error;
  if (v.progress) body.progress = v.progress;
  if (v.durationSec !== undefined) body.duration = v.durationSec;
  if (v.source) {
    const { displayWidth, displayHeight, rotation, fps, videoCodec, hasAudio, container } = v.source;
    body.source = { width: displayWidth, height: displayHeight, rotation, fps, videoCodec, hasAudio, container };
  }
  if (v.renditions) body.renditions = v.renditions.map(({ name, width, height, bandwidth, codecs }) => ({ name, width, height, bandwidth, codecs }));
  if (v.status === 'ready' && v.master) {
    // a link issued while the video is public stops working once it is not (see PlaybackScope)
    const scope = v.visibility === 'public' ? 'public' : 'owner';
    const cache = cacheOf(deps.playback);
    const key = `${v.id}|${scope}|${v.master}|${v.images ? `${v.images.poster}|${v.images.thumbnails.join('|')}` : ''}`;
    const hit = cache.get(key);
    if (hit && hit.renewAt > Date.now()) {
      body.playback = hit.links;
      return body;
    }
    const now = Date.now();
    const token = deps.playback.token(v.id, now, scope);
    const exp = Number(token.split('.')[0]);
    const ttl = exp - Math.floor(now / 1000);
    const sign = (key: string) => deps.storage.presignGet(deps.storage.mediaBucket, key, ttl);
    const links: PlaybackLinks = {
      hls: `${deps.baseUrl}/v1/videos/${v.id}/hls/master.m3u8?token=${token}`,
      thumbnails: v.images ? await Promise.all(v.images.thumbnails.map(sign)) : [],
      expiresAt: new Date(exp * 1000).toISOString(),
      ...(v.images ? { poster: await sign(v.images.poster), storyboard: `${deps.baseUrl}/v1/videos/${v.id}/storyboard.vtt?token=${token}` } : {}),
    };
    // a bounded cache: past its size, the oldest entry goes
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(key, { links, renewAt: now + (ttl * 1000) / 2 });
    body.playback = links;
  }
  return body;
}
