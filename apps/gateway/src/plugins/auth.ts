import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { HttpError } from '../errors.ts';

export interface AuthConfig {
  secret?: string | undefined;
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
}

export interface Authenticator {
  /** The caller's user id (`sub`), or undefined without a token; throws 401 for a bad token. */
  viewer(authorization: string | undefined): Promise<string | undefined>;
  /** Like viewer(), but a token is required. */
  require(authorization: string | undefined): Promise<string>;
}

/** Bearer JWTs: HS256 with a shared secret, or RS256/ES256 from an identity provider's JWKS. */
export function createAuthenticator(cfg: AuthConfig): Authenticator {
  const jwks: JWTVerifyGetKey | undefined = cfg.jwksUrl ? createRemoteJWKSet(new URL(cfg.jwksUrl)) : undefined;
  const secret = cfg.secret ? new TextEncoder().encode(cfg.secret) : undefined;
  const opts = { issuer: cfg.issuer, audience: cfg.audience };
  const verify = async (token: string) => {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8') || '{}') as { alg?: string };
    if (header.alg === 'HS256' && secret) return jwtVerify(token, secret, { ...opts, algorithms: ['HS256'] });
    if (jwks && header.alg && ['RS256', 'ES256', 'PS256', 'EdDSA'].includes(header.alg)) return jwtVerify(token, jwks, { ...opts, algorithms: [header.alg] });
    throw new Error(`tokens signed with ${header.alg ?? 'no algorithm'} are not accepted`);
  };
  const viewer = async (authorization: string | undefined) => {
    if (!authorization) return undefined;
    const m = /^Bearer\s+([\w-]+\.[\w-]+\.[\w-]+)$/i.exec(authorization.trim());
    if (!m?.[1]) throw new HttpError(401, 'unauthorized', 'the Authorization header must be "Bearer <JWT>"');
    try {
      const { payload } = await verify(m[1]);
      if (typeof payload.sub !== 'string' || !payload.sub) throw new Error('the token has no subject');
      return payload.sub;
    } catch (err) {
      throw new HttpError(401, 'unauthorized', `invalid token: ${(err as Error).message}`);
    }
  };
  return {
    viewer,
    async require(authorization) {
      const sub = await viewer(authorization);
      if (!sub) throw new HttpError(401, 'unauthorized', 'this request needs a bearer token');
      return sub;
    },
  };
}
