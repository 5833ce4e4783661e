/**
 * What the platform accepts, as configuration (name → default, bounds, meaning): the gateway
 * refuses a larger upload, ingest a longer or larger video. Read with `env.ints(LIMITS)` from
 * @reel/runtime, so every service that checks a limit names and defaults it the same way.
 */
export const LIMITS = {
  MAX_UPLOAD_BYTES: { default: 10 * 1024 ** 3, min: 1, doc: 'largest accepted upload, in bytes' },
  MAX_DURATION_SEC: { default: 4 * 3600, min: 1, doc: 'longest accepted video, in seconds' },
  MAX_RESOLUTION: { default: 4096, min: 16, doc: 'largest accepted width or height, in pixels' },
} as const;
