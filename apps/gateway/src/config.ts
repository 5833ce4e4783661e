import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { LIMITS } from '@reel/vocabulary';
import { ConfigError, env, type VarSpec } from '@reel/runtime';
import { s3Spec } from '@reel/storage/config';

/** What Fastify's `trustProxy` takes: off, every proxy, a number of hops, or the proxies' addresses. */
export type TrustProxy = boolean | number | string[];

/** `false` | `true` | a number of hops | a comma-separated list of addresses or CIDRs. */
export function parseTrustProxy(raw: string): TrustProxy {
  const s = raw.trim();
  if (/^(0|false|no|off)$/i.test(s)) return false;
  if (/^(true|yes|on)$/i.test(s)) return true;
  if (/^\d+$/.test(s)) return Number(s);
  const list = s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const entry of list) {
    const [addr = '', bits, extra] = entry.split('/');
    const family = isIP(addr);
    const max = family === 4 ? 32 : 128;
    const badBits = bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max);
    if (!family || badBits || extra !== undefined) throw new Error(`"${entry}" is not an IP address or CIDR (use false, true, a number of hops, or a list)`);
  }
  if (!list.length) throw new Error('must be false, true, a number of hops, or a list of addresses/CIDRs');
  return list;
}

const trustProxySpec: VarSpec<TrustProxy> = {
  kind: 'false|true|hops|CIDRs',
  default: false,
  doc: 'which proxies may set X-Forwarded-For: false (none: the socket address is the client), true (any), a number of hops, or a list of addresses/CIDRs',
  parse: parseTrustProxy,
};

/** A CSP `frame-ancestors` source list: sources separated by spaces, nothing that would end the directive. */
const frameAncestorsSpec: VarSpec<string> = {
  kind: 'CSP sources',
  default: '*',
  doc: "which sites may show /embed/:id in an iframe: a CSP frame-ancestors source list ('*' any, 'none', or origins separated by spaces, e.g. `https://blog.example.com https://*.example.org`)",
  parse(raw) {
    const s = raw.trim().replace(/\s+/g, ' ');
    if (!s || /[;,]/.test(s)) throw new Error('must be CSP sources separated by spaces (no ; or ,)');
    return s;
  },
};

export const configSpec = {
  ...s3Spec,
  ...env.ints(LIMITS),
  HOST: env.string({ default: '127.0.0.1', doc: 'interface the API listens on (0.0.0.0 in a container)' }),
  PORT: env.int({ default: 8080, min: 0, max: 65535, doc: 'HTTP port of the API' }),
  PUBLIC_URL: env.url({ optional: true, protocols: ['http', 'https'], doc: 'URL clients reach the API at (default http://HOST:PORT)' }),
  TRUST_PROXY: trustProxySpec,
  AUTH_JWT_SECRET: env.string({ optional: true, secret: true, minLength: 32, doc: 'HS256 secret for bearer tokens (≥32 chars)' }),
  AUTH_JWKS_URL: env.url({ optional: true, protocols: ['http', 'https'], doc: 'JWKS URL of an identity provider (RS256/ES256 tokens)' }),
  AUTH_ISSUER: env.string({ optional: true, doc: 'required `iss` of tokens, if set' }),
  AUTH_AUDIENCE: env.string({ optional: true, doc: 'required `aud` of tokens, if set' }),
  PLAYBACK_SIGNING_SECRET: env.string({
    optional: true,
    secret: true,
    minLength: 32,
    doc: 'secret for playback links (default: derived from AUTH_JWT_SECRET; required when only AUTH_JWKS_URL is set)',
  }),
  MEDIA_PUBLIC_URL: env.url({
    optional: true,
    protocols: ['http', 'https'],
    doc: "public base URL of the media bucket (a CDN, or a public-read origin: <URL>/<object key>); public videos' playlists, segments and images are then stable unsigned URLs under it, private ones stay signed",
  }),
  EMBED_FRAME_ANCESTORS: frameAncestorsSpec,
  PLAYBACK_TTL_SEC: env.int({ default: 4 * 3600, min: 60, doc: 'how long a playback link works' }),
  PLAYBACK_RECHECK_SEC: env.int({
    default: 30,
    min: 0,
    max: 60,
    doc: 'how long a link issued for a public video trusts that it is still public before asking the catalog again',
  }),
  UPLOAD_URL_TTL_SEC: env.int({
    default: 3600,
    min: 1,
    max: 7 * 24 * 3600,
    doc: 'how long a direct-upload URL works; uploads not completed by then are removed',
  }),
  RATE_LIMIT_WRITES_PER_MIN: env.int({ default: 120, min: 1, doc: 'writes (uploads, changes, deletes) allowed per caller per minute' }),
  RATE_LIMIT_READS_PER_MIN: env.int({ default: 600, min: 1, doc: 'reads (videos, lists, playlists, event streams) allowed per caller per minute' }),
  SSE_MAX_STREAMS_PER_CALLER: env.int({ default: 20, min: 1, doc: 'event streams (GET /v1/videos/:id/events) one caller may hold open at once' }),
  STALE_UPLOAD_AFTER_SEC: env.int({
    default: 6 * 3600,
    min: 1,
    doc: 'a streamed multipart upload still open after this long was left by a dead gateway and is aborted',
  }),
  UPLOAD_SWEEP_INTERVAL_SEC: env.int({ default: 600, min: 1, doc: 'how often the gateway looks for stale multipart uploads' }),
  HEALTH_TIMEOUT_MS: env.int({ default: 1000, min: 50, doc: 'how long /v1/health waits for each service' }),
} as const;

/**
 * The secret playback links are signed with. Never derived from public configuration: a JWKS
 * URL is public, so with only AUTH_JWKS_URL the gateway refuses to start without its own secret.
 */
export function playbackSecret(config: { PLAYBACK_SIGNING_SECRET?: string | undefined; AUTH_JWT_SECRET?: string | undefined }): string {
  if (config.PLAYBACK_SIGNING_SECRET) return config.PLAYBACK_SIGNING_SECRET;
  // a key of its own, so a playback token is never also a valid HS256 API token
  if (config.AUTH_JWT_SECRET) return createHash('sha256').update(`reel-playback:${config.AUTH_JWT_SECRET}`).digest('base64url');
  throw new ConfigError([
    'PLAYBACK_SIGNING_SECRET: required when AUTH_JWT_SECRET is not set (a JWKS URL is public and cannot sign playback links); set ≥32 random characters, e.g. `openssl rand -base64 48`',
  ]);
}

/** Base URL the API is reached at, for links it hands out. */
export function publicBaseUrl(config: { PUBLIC_URL?: string | undefined; HOST: string; PORT: number }): string {
  return config.PUBLIC_URL ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`;
}
