import { isRetryableError, RetryableError } from '@reel/events';
import { StorageUnavailableError } from '@reel/storage';
import t from 'tap';
import { isNatsOutage, persist } from '../src/persist.ts';

const log = { info() {}, warn() {}, error() {}, debug() {}, child: () => log } as never;

t.test('finished work waits out a storage outage longer than one call’s budget', async (t) => {
  let calls = 0;
  let beats = 0;
  const result = await persist(
    'segment',
    async () => {
      if (++calls < 3) throw new StorageUnavailableError('storage is unavailable (PutObject: ECONNREFUSED)');
      return 'stored';
    },
    { signal: new AbortController().signal, log, working: () => beats++ },
  );
  t.equal(result, 'stored');
  t.equal(calls, 3);
  t.equal(beats, 2, 'JetStream is told the handler is alive while it waits');
});

t.test('anything but an outage is thrown at once; an outage past the budget too', async (t) => {
  let calls = 0;
  const denied = Object.assign(new Error('Access Denied'), { code: 'AccessDenied' });
  await t.rejects(
    persist(
      'x',
      async () => {
        calls++;
        throw denied;
      },
      { signal: new AbortController().signal, log },
    ),
    denied,
  );
  t.equal(calls, 1);
  const down = new StorageUnavailableError('down');
  await t.rejects(
    persist('x', () => Promise.reject(down), { signal: new AbortController().signal, log, budgetMs: 500 }),
    down,
  );
});

t.test('an abort (the video deleted) ends the wait with its reason', async (t) => {
  const ctl = new AbortController();
  const reason = new RetryableError('video deleted');
  setTimeout(() => ctl.abort(reason), 50);
  const err = await persist('x', () => Promise.reject(new StorageUnavailableError('down')), { signal: ctl.signal, log }).catch((e: unknown) => e);
  t.equal(err, reason);
  t.ok(isRetryableError(err));
});

t.test('the publish that reports finished work waits out a NATS outage too', async (t) => {
  let calls = 0;
  const timeout = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
  const r = await persist(
    'video.transcoded',
    async () => {
      if (++calls < 2) throw timeout;
      return 'published';
    },
    { signal: new AbortController().signal, log, isTransient: isNatsOutage },
  );
  t.equal(r, 'published');
  t.notOk(isNatsOutage(new Error('video x was deleted')));
});
