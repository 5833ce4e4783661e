import { Type as T } from '@sinclair/typebox';

export const ErrorBody = T.Object({ error: T.Object({ code: T.String(), message: T.String() }) }, { $id: 'Error' });

export const VideoBody = T.Object(
  {
    id: T.String(),
    title: T.String(),
    description: T.String(),
    visibility: T.Union([T.Literal('private'), T.Literal('public')]),
    status: T.Union([T.Literal('waiting_upload'), T.Literal('processing'), T.Literal('ready'), T.Literal('failed')]),
    error: T.Optional(T.Object({ code: T.String(), stage: T.String(), message: T.String() })),
    progress: T.Optional(T.Object({ stage: T.String(), percent: T.Number() })),
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
        hls: T.String({ description: 'master playlist URL, usable as is until expiresAt' }),
        poster: T.Optional(T.String()),
        thumbnails: T.Array(T.String()),
        storyboard: T.Optional(T.String({ description: 'WebVTT of storyboard tiles' })),
        expiresAt: T.String(),
      }),
    ),
    createdAt: T.String(),
    updatedAt: T.String(),
  },
  { $id: 'Video' },
);

export const VideoIdParams = T.Object({ id: T.String({ maxLength: 64 }) });
