import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { HttpError } from '../errors.ts';

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
  /** Like viewer(), but a token is required. */
  require(authorization: string | undefined): Promise<string>;
  /** The verified `sub` of a bearer header, or undefined for none or an invalid one (never throws): what rate limits key on. */
  subject(authorization: string | undefined): Promise<string | undefined>;
}

/** `Bearer <JWT>`, the scheme in any case, any whitespace around and between: the same rule for auth and rate limits. */
const BEARER = /^\s*bearer\s+([\w-]+\.[\w-]+\.[\w-]+)\s*$/i;
export const bearerToken = (authorization: string | undefined): string | undefined => (authorization ? BEARER.exec(authorization)?.[1] : undefined);

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
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8') || '{}') as { alg?: string };
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
  return {
    viewer,
    async require(authorization) {
      const sub = await viewer(authorization);
      if (!sub) throw new HttpError(401, 'unauthorized', 'this request needs a bearer token');
      return sub;
    },
    async subject(authorization) {
      const token = bearerToken(authorization);
      if (!token) return undefined;
      const verdict = await check(token);
      return 'sub' in verdict ? verdict.sub : undefined;
    },
  };
}
