import { createHmac } from 'node:crypto';
import t from 'tap';
import { newSecret, signatureHeader, verifySignature } from '../src/signature.ts';

t.test('the header is t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>', async (t) => {
  const body = '{"id":"e1"}';
  const header = signatureHeader('s3cret', body, 1_700_000_000);
  const expected = createHmac('sha256', 's3cret').update(`1700000000.${body}`).digest('hex');
  t.equal(header, `t=1700000000,v1=${expected}`);
});

t.test('verification', async (t) => {
  const secret = newSecret();
  t.match(secret, /^whsec_[0-9a-f]{64}$/);
  t.not(secret, newSecret(), 'secrets are random');
  const now = Date.now();
  const header = signatureHeader(secret, 'body', Math.floor(now / 1000));
  t.ok(verifySignature(secret, 'body', header, 300, now), 'a fresh signature verifies');
  t.notOk(verifySignature(secret, 'body2', header, 300, now), 'another body does not');
  t.notOk(verifySignature(newSecret(), 'body', header, 300, now), 'another secret does not');
  t.notOk(verifySignature(secret, 'body', header, 300, now + 301_000), 'older than 5 minutes is refused');
  t.notOk(verifySignature(secret, 'body', 'garbage', 300, now), 'a malformed header is refused');
  t.notOk(verifySignature(secret, 'body', header.replace(/v1=../, 'v1='), 300, now), 'a truncated signature is refused');
});
