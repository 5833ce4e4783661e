import { videoStateFields } from '@reel/events';
import { Type as T } from '@sinclair/typebox';

export const ErrorBody = T.Object({ error: T.Object({ code: T.String(), message: T.String() }) }, { $id: 'Error' });

export const VideoBody = T.Object(
  {
    id: T.String(),
    ...videoStateFields,
    playable: T.Boolean({ description: 'true once `playback` works: while processing the playlist grows (EVENT) until the video is ready' }),
    views: T.Integer({ minimum: 0, description: 'views counted: one per viewer per 30 minutes (POST /v1/videos/{id}/views)' }),
    duration: T.Optional(T.Number({ description: 'seconds' })),
    source: T.Optional(
      T.Object({
        width: T.Integer(),
        height: T.Integer(),
        rotation: T.Integer(),
        fps: T.Number(),
        videoCodec: T.String(),
        hasAudio: T.Boolean(),
        container: T.String(),
      }),
    ),
    renditions: T.Optional(T.Array(T.Object({ name: T.String(), width: T.Integer(), height: T.Integer(), bandwidth: T.Integer(), codecs: T.String() }))),
    playback: T.Optional(
      T.Object({
        hls: T.String({ description: 'master playlist URL, usable as is until expiresAt (a public video under MEDIA_PUBLIC_URL: a stable, unsigned URL)' }),
        poster: T.Optional(T.String()),
        thumbnails: T.Array(T.String()),
        storyboard: T.Optional(T.String({ description: 'WebVTT of storyboard tiles' })),
        expiresAt: T.Optional(T.String({ description: 'when the signed links stop working; absent for stable public links' })),
      }),
    ),
    createdAt: T.String(),
    updatedAt: T.String(),
  },
  { $id: 'Video' },
);

export const VideoIdParams = T.Object({ id: T.String({ maxLength: 64 }) });
