import { env, ffmpegSpec, s3Spec } from '@reel/runtime';

export const configSpec = {
  ...s3Spec,
  ...ffmpegSpec,
  TRANSCODE_CONCURRENCY: env.int({ default: 1, min: 1, max: 16, doc: 'work items encoded at once by one transcoder' }),
  X264_PRESET: env.oneOf(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'], { default: 'veryfast', doc: 'x264 preset' }),
  TRANSCODE_TIMEOUT_SEC: env.int({ default: 3 * 3600, min: 10, doc: 'a work item still running after this is aborted and retried' }),
  WORK_DIR: env.string({ optional: true, doc: 'directory for temporary files (default: the system temp dir)' }),
} as const;
