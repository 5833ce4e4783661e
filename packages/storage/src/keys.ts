import { isVideoId } from '@reel/vocabulary';

/**
 * Every object key of the platform, built from ids only: user input (a filename, a title) never
 * reaches a key. One function per kind of object, so a key's shape is decided in one place.
 */
const RUNG = /^[a-z0-9]{1,16}$/;

function id(videoId: string): string {
  if (!isVideoId(videoId)) throw new TypeError(`not a video id: ${JSON.stringify(videoId).slice(0, 60)}`);
  return videoId;
}
function rung(name: string): string {
  if (!RUNG.test(name)) throw new TypeError(`not a rung name: ${JSON.stringify(name).slice(0, 40)}`);
  return name;
}
const pad = (n: number, w: number) => String(n).padStart(w, '0');

/**
 * How long a cache in front of the media (a CDN, a browser) may keep an object, decided by its key:
 * segments and images never change under their key (immutable); playlists only briefly (a
 * processing video's playlists grow); anything else (sources, work files) carries nothing.
 */
export function cacheControlOf(key: string): string | undefined {
  if (!key.startsWith('videos/')) return undefined;
  if (key.endsWith('.m3u8')) return 'public, max-age=2';
  if (/\.(ts|jpg|vtt)$/.test(key)) return 'public, max-age=31536000, immutable';
  return undefined;
}

export const keys = {
  /** Source bucket: the uploaded file as received. */
  source: (videoId: string) => `sources/${id(videoId)}/original`,
  sourcePrefix: (videoId: string) => `sources/${id(videoId)}/`,
  /**
   * Source bucket: where a direct (presigned PUT) upload lands. Completing the upload copies it to
   * `source` and removes it, so the client's URL can never again change what the pipeline reads.
   */
  directUpload: (videoId: string) => `sources/${id(videoId)}/upload`,
  /** Source bucket: a resumable (tus) upload, with the store's own `.info`/`.part` objects beside it. */
  tusUpload: (videoId: string) => `sources/${id(videoId)}/tus`,
  /** Source bucket: everything a video's processing leaves behind (chunk manifests). */
  workPrefix: (videoId: string) => `work/${id(videoId)}/`,
  chunkManifest: (videoId: string, chunk: number) => `work/${id(videoId)}/chunk-${pad(chunk, 4)}.json`,
  audioManifest: (videoId: string) => `work/${id(videoId)}/audio.json`,
  /** Media bucket: everything published for a video. */
  mediaPrefix: (videoId: string) => `videos/${id(videoId)}/`,
  master: (videoId: string) => `videos/${id(videoId)}/hls/master.m3u8`,
  mediaPlaylist: (videoId: string, rungName: string) => `videos/${id(videoId)}/hls/${rung(rungName)}/index.m3u8`,
  segment: (videoId: string, rungName: string, chunk: number, n: number) => `videos/${id(videoId)}/hls/${rung(rungName)}/seg-${pad(chunk, 4)}-${pad(n, 5)}.ts`,
  /** Media bucket: the audio rendition every rung shares (a video of several chunks). */
  audioPlaylist: (videoId: string) => `videos/${id(videoId)}/hls/audio/index.m3u8`,
  audioSegment: (videoId: string, n: number) => `videos/${id(videoId)}/hls/audio/seg-${pad(n, 5)}.ts`,
  poster: (videoId: string) => `videos/${id(videoId)}/images/poster.jpg`,
  thumbnail: (videoId: string, n: number) => `videos/${id(videoId)}/images/thumb-${pad(n, 3)}.jpg`,
  storyboard: (videoId: string) => `videos/${id(videoId)}/images/storyboard.jpg`,
  /** The storyboard sprite of one chunk of a video cut into chunks. */
  storyboardSprite: (videoId: string, chunk: number) => `videos/${id(videoId)}/images/storyboard-${pad(chunk, 4)}.jpg`,
  storyboardVtt: (videoId: string) => `videos/${id(videoId)}/images/storyboard.vtt`,
} as const;
