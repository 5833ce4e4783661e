import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Storage } from '@reel/storage';

/**
 * Who a link was issued for: `owner` (the video was private, so only its owner could get it) or
 * `public` (anyone could: public or unlisted): a `public` link works only while the video is still so, which the
 * playlist routes re-check (PLAYBACK_RECHECK_SEC), so making a video private revokes every link
 * handed out while it was public.
 */
export type PlaybackScope = 'owner' | 'public';

/** A valid token: its expiry (unix seconds) and scope. */
export interface PlaybackGrant {
  exp: number;
  scope: PlaybackScope;
}

/**
 * Playback links: the gateway serves the (small) playlists itself, signed with an HMAC token
 * bound to the video, an expiry and a scope; segments and images come straight from storage
 * through presigned URLs that expire with the token. A link stripped of its token, or expired, is refused.
 */
export interface Playback {
  token(videoId: string, now?: number, scope?: PlaybackScope): string;
  /** The grant of a valid token for this video, else undefined. */
  verify(videoId: string, token: string | undefined, now?: number): PlaybackGrant | undefined;
  /** Rewrites the master so each variant points at the gateway's media playlist with the token. */
  master(text: string, videoId: string, token: string): string;
  /** Rewrites a media playlist so each segment URI is a presigned storage URL. */
  media(text: string, prefix: string, expiresAt: number, now?: number): Promise<string>;
  /**
   * Rewrites the storyboard VTT so each sprite it names (`storyboard.jpg`, or `storyboard-NNNN.jpg`
   * per chunk; nothing else) is a presigned URL of that file under `prefix`.
   */
  storyboard(text: string, prefix: string, expiresAt: number, now?: number): Promise<string>;
}

const SCOPE_LETTER: Record<PlaybackScope, string> = { owner: 'o', public: 'p' };

export function createPlayback(opts: { secret: string; ttlSec: number; storage: Storage; baseUrl: string }): Playback {
  const sign = (payload: string) => createHmac('sha256', opts.secret).update(payload).digest('base64url');
  const presign = (key: string, expiresAt: number, now: number) =>
    opts.storage.presignGet(opts.storage.mediaBucket, key, Math.max(60, Math.min(7 * 24 * 3600, expiresAt - Math.floor(now / 1000))));
  return {
    token(videoId, now = Date.now(), scope = 'owner') {
      const exp = Math.floor(now / 1000) + opts.ttlSec;
      const s = SCOPE_LETTER[scope];
      return `${exp}.${s}.${sign(`${videoId}.${exp}.${s}`)}`;
    },
    verify(videoId, token, now = Date.now()) {
      const m = /^(\d{1,12})\.([op])\.([\w-]{43})$/.exec(token ?? '');
      if (!m?.[1] || !m[2] || !m[3]) return undefined;
      const exp = Number(m[1]);
      if (exp <= Math.floor(now / 1000)) return undefined;
      const want = Buffer.from(sign(`${videoId}.${exp}.${m[2]}`));
      const got = Buffer.from(m[3]);
      if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
      return { exp, scope: m[2] === 'p' ? 'public' : 'owner' };
    },
    master(text, videoId, token) {
      const url = (rung: string) => `${opts.baseUrl}/v1/videos/${videoId}/hls/${rung}/index.m3u8?token=${token}`;
      // variant lines, and the URI of a rendition group (EXT-X-MEDIA: the shared audio of a chunked encode)
      return text
        .replace(/^([a-z0-9]+)\/index\.m3u8$/gm, (_, rung: string) => url(rung))
        .replace(/URI="([a-z0-9]+)\/index\.m3u8"/g, (_, rung: string) => `URI="${url(rung)}"`);
    },
    async media(text, prefix, expiresAt, now = Date.now()) {
      const lines = text.split('\n');
      const out = await Promise.all(lines.map((l) => (l && !l.startsWith('#') ? presign(`${prefix}${l.trim()}`, expiresAt, now) : l)));
      return out.join('\n');
    },
    async storyboard(text, prefix, expiresAt, now = Date.now()) {
      const sprite = /^(storyboard(?:-\d{4})?\.jpg)#/gm;
      const names = [...new Set(Array.from(text.matchAll(sprite), (m) => m[1] ?? ''))];
      const urls = new Map(await Promise.all(names.map(async (n) => [n, await presign(`${prefix}${n}`, expiresAt, now)] as const)));
      return text.replace(sprite, (_, name: string) => `${urls.get(name)}#`);
    },
  };
}
