import { env, limitsSpec, s3Spec } from '@reel/runtime';

export const configSpec = {
  ...s3Spec,
  ...limitsSpec,
  HOST: env.string({ default: '127.0.0.1', doc: 'interface the API listens on (0.0.0.0 in a container)' }),
  PORT: env.int({ default: 8080, min: 0, max: 65535, doc: 'HTTP port of the API' }),
  PUBLIC_URL: env.url({ optional: true, protocols: ['http', 'https'], doc: 'URL clients reach the API at (default http://HOST:PORT)' }),
  AUTH_JWT_SECRET: env.string({ optional: true, secret: true, minLength: 32, doc: 'HS256 secret for bearer tokens (≥32 chars)' }),
  AUTH_JWKS_URL: env.url({ optional: true, protocols: ['http', 'https'], doc: 'JWKS URL of an identity provider (RS256/ES256 tokens)' }),
  AUTH_ISSUER: env.string({ optional: true, doc: 'required `iss` of tokens, if set' }),
  AUTH_AUDIENCE: env.string({ optional: true, doc: 'required `aud` of tokens, if set' }),
  PLAYBACK_SIGNING_SECRET: env.string({
    optional: true,
    secret: true,
    minLength: 32,
    doc: 'secret for playback links (default: derived from AUTH_JWT_SECRET)',
  }),
  PLAYBACK_TTL_SEC: env.int({ default: 4 * 3600, min: 60, doc: 'how long a playback link works' }),
  UPLOAD_URL_TTL_SEC: env.int({
    default: 3600,
    min: 1,
    max: 7 * 24 * 3600,
    doc: 'how long a direct-upload URL works; uploads not completed by then are removed',
  }),
  RATE_LIMIT_WRITES_PER_MIN: env.int({ default: 120, min: 1, doc: 'writes (uploads, changes, deletes) allowed per client per minute' }),
  HEALTH_TIMEOUT_MS: env.int({ default: 1000, min: 50, doc: 'how long /v1/health waits for each service' }),
} as const;
