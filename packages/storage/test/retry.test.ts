import t from 'tap';
import { isStorageUnavailableError, isTransientStorageError, StorageUnavailableError } from '../src/errors.ts';
import { retrying } from '../src/retry.ts';

const fail = (props: Record<string, unknown>) => Object.assign(new Error('x'), props);

t.test('what counts as storage being unavailable', async (t) => {
  for (const e of [
    fail({ code: 'ECONNREFUSED' }),
    fail({ code: 'ECONNRESET' }),
    fail({ code: 'ETIMEDOUT' }),
    fail({ code: 'SlowDown' }),
    fail({ code: 'InternalError' }),
    fail({ code: 'ServiceUnavailable' }),
    fail({ $metadata: { httpStatusCode: 503 } }),
    new Error('wrapped', { cause: fail({ code: 'ECONNREFUSED' }) }),
    new StorageUnavailableError('down'),
  ])
    t.ok(isTransientStorageError(e), `${(e as { code?: string }).code ?? e.message} is transient`);
  for (const e of [
    fail({ code: 'NoSuchKey' }),
    fail({ code: 'AccessDenied' }),
    fail({ code: 'NotFound' }),
    fail({ $metadata: { httpStatusCode: 400 } }),
    new TypeError('bug'),
  ])
    t.notOk(isTransientStorageError(e), `${(e as { code?: string }).code ?? e.message} is not`);
});

t.test('transient failures are retried in place until they pass', async (t) => {
  let calls = 0;
  const result = await retrying('GetObject', { budgetMs: 5_000, baseDelayMs: 1 }, async () => {
    if (++calls < 3) throw fail({ code: 'ECONNREFUSED' });
    return 'ok';
  });
  t.equal(result, 'ok');
  t.equal(calls, 3);
});

t.test('other errors are thrown at once, as they are', async (t) => {
  let calls = 0;
  const err = await retrying('GetObject', { budgetMs: 5_000, baseDelayMs: 1 }, async () => {
    calls++;
    throw fail({ code: 'NoSuchKey' });
  }).catch((e: unknown) => e as { code?: string });
  t.equal(err.code, 'NoSuchKey');
  t.equal(calls, 1);
});

t.test('past its budget, a transient failure is a StorageUnavailableError with its cause', async (t) => {
  const started = Date.now();
  const err = await retrying('PutObject', { budgetMs: 200, baseDelayMs: 10, maxDelayMs: 50 }, async () => {
    throw fail({ code: 'ECONNREFUSED' });
  }).catch((e: unknown) => e as Error);
  t.ok(isStorageUnavailableError(err));
  t.equal((err.cause as { code?: string }).code, 'ECONNREFUSED');
  t.match(err.message, /PutObject: ECONNREFUSED/);
  t.ok(Date.now() - started < 1000, 'gives up within its budget');
});
