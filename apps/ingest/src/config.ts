import { LIMITS } from '@reel/vocabulary';
import { ffmpegSpec } from '@reel/media';
import { env } from '@reel/runtime';
import { s3Spec } from '@reel/storage/config';

export const configSpec = {
  ...s3Spec,
  ...ffmpegSpec,
  ...env.ints(LIMITS),
  CHUNK_SEC: env.int({ default: 12, min: 4, max: 600, doc: 'length of one transcoding work item in seconds (a multiple of the 4 s segment)' }),
} as const;
