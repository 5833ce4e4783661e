import { postgresSpec } from '@reel/postgres';
import { env } from '@reel/runtime';

export const configSpec = {
  ...postgresSpec,
  UPLOAD_SWEEP_INTERVAL_SEC: env.int({ default: 60, min: 1, doc: 'how often expired, never-completed uploads are looked for' }),
} as const;
