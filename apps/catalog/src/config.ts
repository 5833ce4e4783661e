import { postgresSpec } from '@reel/postgres';
import { env } from '@reel/runtime';

export const configSpec = {
  ...postgresSpec,
  UPLOAD_SWEEP_INTERVAL_SEC: env.int({ default: 60, min: 1, doc: 'how often expired, never-completed uploads (and stalled videos) are looked for' }),
  STALL_AFTER_SEC: env.int({
    default: 900,
    min: 5,
    doc: 'a video processing with no event for this long, while no work is queued or running anywhere, is failed as stalled',
  }),
} as const;
