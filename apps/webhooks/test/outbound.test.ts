import { INTERNAL_URLS } from '@reel/testing';
import t from 'tap';
import { backoffAfter } from '../src/dispatcher.ts';
import { isInternalAddress, isOutboundRefusedError, resolveTarget } from '../src/outbound.ts';

t.test('internal addresses', async (t) => {
  for (const a of [
    '127.0.0.1',
    '127.5.6.7',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:10.1.2.3',
    '224.0.0.1',
  ])
    t.ok(isInternalAddress(a), `${a} is internal`);
  for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) t.notOk(isInternalAddress(a), `${a} is public`);
});

t.test('resolveTarget', async (t) => {
  const refused = async (url: string, allow = false) => {
    try {
      await resolveTarget(url, allow);
      return undefined;
    } catch (err) {
      t.ok(isOutboundRefusedError(err), `${url}: an OutboundRefusedError`);
      return (err as Error).message;
    }
  };
  t.match(await refused('ftp://example.com/x'), /http or https/);
  t.match(await refused('file:///etc/passwd'), /http or https/);
  t.match(await refused('not a url'), /not a valid URL/);
  t.match(await refused('http://user:pw@8.8.8.8/'), /credentials/);
  t.match(await refused('http://127.0.0.1:8080/hook'), /internal address \(127\.0\.0\.1\)/);
  for (const url of INTERNAL_URLS) t.match(await refused(url), /internal address/);
  t.match(await refused('http://localhost/hook'), /internal address/, 'a name is checked by what it resolves to');
  t.match(await refused('http://no-such-host.invalid/'), /does not resolve/);
  t.match(await resolveTarget('http://127.0.0.1:8080/hook', true), { address: '127.0.0.1', family: 4 }, 'allowed with the flag');
  t.match(await resolveTarget('https://8.8.8.8/hook', false), { address: '8.8.8.8', family: 4 }, 'a public address is fine');
});

t.test('backoff: by attempt, the last step repeating', async (t) => {
  t.equal(backoffAfter([10, 20, 30], 1), 10);
  t.equal(backoffAfter([10, 20, 30], 3), 30);
  t.equal(backoffAfter([10, 20, 30], 9), 30);
});
