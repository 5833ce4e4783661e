import { ffmpegSpec } from '@reel/media';
import { env } from '@reel/runtime';
import { s3Spec } from '@reel/storage/config';

export const configSpec = {
  ...s3Spec,
  ...ffmpegSpec,
  TRANSCODE_CONCURRENCY: env.int({
    default: 2,
    min: 1,
    max: 16,
    doc: 'chunks encoded at once by one transcoder (2: the next chunk uses what the current one leaves idle; later chunks run at lower CPU priority)',
  }),
  TRANSCODE_LATER_NICENESS: env.int({
    default: 19,
    min: 0,
    max: 19,
    doc: "CPU priority (nice) of a video's chunks after the first, which a viewer does not wait for: at 19 they take only what the first chunks leave idle; lower it when other busy work shares the machine, which would otherwise starve them",
  }),
  X264_PRESET: env.oneOf(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'], { default: 'veryfast', doc: 'x264 preset' }),
  TRANSCODE_TIMEOUT_SEC: env.int({ default: 3 * 3600, min: 10, doc: 'a work item still running after this is aborted and retried' }),
  WORK_DIR: env.string({ optional: true, doc: 'directory for temporary files (default: the system temp dir)' }),
} as const;
