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
export interface PresentDeps {
  playback: Playback;
  storage: Storage;
  baseUrl: string;
  /** MEDIA_PUBLIC_URL: public videos' media as stable unsigned URLs under it. */
  mediaPublicUrl?: string | undefined;
}

/**
 * A public video's links under MEDIA_PUBLIC_URL: the objects as stored (the master names its media
 * playlists relatively, they name their segments, the storyboard VTT its sprite), so a CDN caches
 * them for everyone. Asked per request from the current record: made private, the next playback
 * gets signed links at once (what a CDN already holds is its cache's business: short for playlists).
 */
function publicLinks(v: VideoRecord & { master: string }, base: string): PlaybackLinks {
  const url = (key: string) => `${base.replace(/\/+$/, '')}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return {
    hls: url(v.master),
    thumbnails: v.images ? v.images.thumbnails.map(url) : [],
    ...(v.images ? { poster: url(v.images.poster), storyboard: url(v.images.storyboardVtt) } : {}),
  };
}

export async function present(v: VideoRecord, deps: PresentDeps): Promise<Static<typeof VideoBody>> {
  const body: Static<typeof VideoBody> = {
    id: v.id,
    title: v.title,
    description: v.description,
    visibility: v.visibility,
    status: v.status,
    playable: v.playable === true,
    views: v.views ?? 0,
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
  // playable while processing too: the packager's first playlists (an EVENT playlist) grow until it is ready
  if ((v.status === 'ready' || v.playable) && v.master && v.visibility !== 'private' && deps.mediaPublicUrl) {
    body.playback = publicLinks({ ...v, master: v.master }, deps.mediaPublicUrl);
  } else if ((v.status === 'ready' || v.playable) && v.master) {
    // a link issued while the video is public stops working once it is not (see PlaybackScope)
    const scope = v.visibility === 'private' ? 'owner' : 'public';
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
