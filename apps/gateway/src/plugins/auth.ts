import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createRemoteJWKSet, decodeProtectedHeader, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { HttpError, isHttpError } from '../errors.ts';

export interface AuthConfig {
  secret?: string | undefined;
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  /** How long a verification result is remembered (default 30 s; never past the token's `exp`). */
  cacheMs?: number;
  /** Most tokens remembered at once (default 10 000; the oldest go first). */
  cacheSize?: number;
}

export interface Authenticator {
  /** The caller's user id (`sub`), or undefined without a token; throws 401 for a bad token. */
  viewer(authorization: string | undefined): Promise<string | undefined>;
}

/** `Bearer <JWT>`, the scheme in any case, any whitespace around and between: the same rule for auth and rate limits. */
const BEARER = /^\s*bearer\s+([\w-]+\.[\w-]+\.[\w-]+)\s*$/i;
const bearerToken = (authorization: string | undefined): string | undefined => (authorization ? BEARER.exec(authorization)?.[1] : undefined);

type Verdict = { sub: string } | { error: string };

/** Bearer JWTs: HS256 with a shared secret, or RS256/ES256 from an identity provider's JWKS. */
export function createAuthenticator(cfg: AuthConfig): Authenticator {
  const jwks: JWTVerifyGetKey | undefined = cfg.jwksUrl ? createRemoteJWKSet(new URL(cfg.jwksUrl)) : undefined;
  const secret = cfg.secret ? new TextEncoder().encode(cfg.secret) : undefined;
  const opts = { issuer: cfg.issuer, audience: cfg.audience };
  const cacheMs = cfg.cacheMs ?? 30_000;
  const cacheSize = cfg.cacheSize ?? 10_000;
  // token → verdict: every request of a caller is checked (the rate limiter keys on it), so a
  // repeat costs a map lookup rather than a signature check (and no JWKS fetch for a bad kid)
  const cache = new Map<string, { verdict: Verdict; until: number }>();
  const verify = async (token: string) => {
    const header = decodeProtectedHeader(token);
    if (header.alg === 'HS256' && secret) return jwtVerify(token, secret, { ...opts, algorithms: ['HS256'] });
    if (jwks && header.alg && ['RS256', 'ES256', 'PS256', 'EdDSA'].includes(header.alg)) return jwtVerify(token, jwks, { ...opts, algorithms: [header.alg] });
    throw new Error(`tokens signed with ${header.alg ?? 'no algorithm'} are not accepted`);
  };
  const check = async (token: string): Promise<Verdict> => {
    const now = Date.now();
    const hit = cache.get(token);
    if (hit && hit.until > now) return hit.verdict;
    let verdict: Verdict;
    let until = now + cacheMs;
    try {
      const { payload } = await verify(token);
      if (typeof payload.sub !== 'string' || !payload.sub) throw new Error('the token has no subject');
      verdict = { sub: payload.sub };
      if (typeof payload.exp === 'number') until = Math.min(until, payload.exp * 1000);
    } catch (err) {
      verdict = { error: (err as Error).message };
      until = now + Math.min(cacheMs, 10_000);
    }
    cache.delete(token);
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
    cache.set(token, { verdict, until });
    return verdict;
  };
  const viewer = async (authorization: string | undefined) => {
    if (!authorization) return undefined;
    const token = bearerToken(authorization);
    if (!token) throw new HttpError(401, 'unauthorized', 'the Authorization header must be "Bearer <JWT>"');
    const verdict = await check(token);
    if ('error' in verdict) throw new HttpError(401, 'unauthorized', `invalid token: ${verdict.error}`);
    return verdict.sub;
  };
  return { viewer };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified `sub` of the caller's bearer token; undefined without one, or with an invalid one (see credentialsError). */
    viewer: string | undefined;
    /** The 401 a route answers if it looks at the caller and the credentials offered were invalid. */
    credentialsError: HttpError | undefined;
  }
  interface FastifyContextConfig {
    /** EventSource cannot send headers: this route also takes the token as `?access_token=`. */
    tokenInQuery?: boolean;
  }
}

/** `?access_token=` on the routes that take it. */
function queryToken(req: FastifyRequest): string | undefined {
  if (!req.routeOptions.config.tokenInQuery) return undefined;
  const q: unknown = req.query;
  return q && typeof q === 'object' && 'access_token' in q && typeof q.access_token === 'string' && q.access_token ? q.access_token : undefined;
}

/**
 * Every request learns its caller before anything else runs (the rate limiter keys on it). An
 * invalid token does not refuse the request here: the limiter counts it against the address first,
 * and only routes that look at the caller answer 401 (viewerOf, requireViewer).
 */
export const authPlugin = fp(
  async (app, opts: { auth: Authenticator }) => {
    app.decorateRequest('viewer', undefined);
    app.decorateRequest('credentialsError', undefined);
    app.addHook('onRequest', async (req) => {
      const token = queryToken(req);
      try {
        req.viewer = await opts.auth.viewer(req.headers.authorization ?? (token ? `Bearer ${token}` : undefined));
      } catch (err) {
        if (!isHttpError(err)) throw err;
        req.credentialsError = err;
      }
    });
  },
  { name: 'reel-auth' },
);

/** The caller, or undefined for an anonymous one; 401 for invalid credentials. */
export function viewerOf(req: FastifyRequest): string | undefined {
  if (req.credentialsError) throw req.credentialsError;
  return req.viewer;
}

/** The caller of a route that needs one: 401 without a (valid) token. */
export function requireViewer(req: FastifyRequest): string {
  const viewer = viewerOf(req);
  if (!viewer) throw new HttpError(401, 'unauthorized', 'this request needs a bearer token');
  return viewer;
}
