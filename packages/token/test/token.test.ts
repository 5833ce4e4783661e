import { decodeProtectedHeader, jwtVerify } from 'jose';
import t from 'tap';
import { mintToken } from '../src/mod.ts';

const SECRET = 'a-secret-that-is-at-least-32-characters-long';

t.test('a minted token verifies with the secret and names its subject and expiry', async (t) => {
  const token = await mintToken(SECRET, 'alice', 600);
  t.same(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT' });
  const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET));
  t.equal(payload.sub, 'alice');
  t.ok(payload.exp && payload.iat && payload.exp - payload.iat >= 599 && payload.exp - payload.iat <= 601, 'expires in ttlSec');
  await t.rejects(jwtVerify(token, new TextEncoder().encode(`${SECRET}x`)), 'another secret does not verify it');
});
