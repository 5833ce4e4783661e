/** @reel/token — the bearer tokens the gateway accepts, minted for `npm start`, the CLI and the tests. */
import { SignJWT } from 'jose';

/** Mints an HS256 bearer token for `sub` (the dev token `npm start` prints, the CLI, tests). */
export function mintToken(secret: string, sub: string, ttlSec = 30 * 24 * 3600): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSec)
    .sign(new TextEncoder().encode(secret));
}
