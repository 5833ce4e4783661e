import type { VideoRecord } from '@reel/events';
import type { Static } from '@sinclair/typebox';
import type { Playback } from '../../playback.ts';
import type { VideoBody } from '../../schemas/video.ts';
import type { Storage } from '@reel/storage';

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
    const token = deps.playback.token(v.id, Date.now(), v.visibility === 'public' ? 'public' : 'owner');
    const exp = Number(token.split('.')[0]);
    const ttl = exp - Math.floor(Date.now() / 1000);
    const sign = (key: string) => deps.storage.presignGet(deps.storage.mediaBucket, key, ttl);
    body.playback = {
      hls: `${deps.baseUrl}/v1/videos/${v.id}/hls/master.m3u8?token=${token}`,
      thumbnails: v.images ? await Promise.all(v.images.thumbnails.map(sign)) : [],
      expiresAt: new Date(exp * 1000).toISOString(),
      ...(v.images ? { poster: await sign(v.images.poster), storyboard: `${deps.baseUrl}/v1/videos/${v.id}/storyboard.vtt?token=${token}` } : {}),
    };
  }
  return body;
}
