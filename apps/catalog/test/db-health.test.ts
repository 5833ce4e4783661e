import t from 'tap';
import { isConnectionError, waitForDatabase } from '../src/db-health.ts';

/** A logger that keeps what it is told. */
function recorder() {
  const lines: { level: string; msg?: string; obj: object }[] = [];
  const log = {
    debug: (obj: object, msg?: string) => void lines.push({ level: 'debug', obj, msg }),
    info: (obj: object, msg?: string) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj: object, msg?: string) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj: object, msg?: string) => void lines.push({ level: 'error', obj, msg }),
    child: () => log,
  };
  return { log, lines };
}

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

t.test('connection failures are told apart from faulty statements', async (t) => {
  t.ok(isConnectionError(refused));
  t.ok(isConnectionError(new Error('Failed query: select …', { cause: refused })), 'through drizzle’s wrapper');
  t.ok(isConnectionError(Object.assign(new AggregateError([refused]), { code: undefined })), 'one refusal per address');
  t.ok(isConnectionError(Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' })));
  t.ok(isConnectionError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })));
  t.ok(isConnectionError(Object.assign(new Error('the database system is starting up'), { code: '57P03' })));
  t.notOk(isConnectionError(Object.assign(new Error('syntax error'), { code: '42601' })));
  t.notOk(isConnectionError(Object.assign(new Error('duplicate key'), { code: '23505' })));
  t.notOk(isConnectionError(new Error('plain')));
  t.notOk(isConnectionError(undefined));
});

t.test('the gate waits while the database is down, logs once each way, and lets the consumer go on', async (t) => {
  const { log, lines } = recorder();
  let up = false;
  let pings = 0;
  const gate = waitForDatabase(
    async () => {
      pings++;
      if (!up) throw refused;
    },
    log,
    { minDelayMs: 5, maxDelayMs: 20, freshMs: 0 },
  );
  let passed = false;
  const waiting = gate(new AbortController().signal).then(() => {
    passed = true;
  });
  await new Promise((r) => setTimeout(r, 150));
  t.notOk(passed, 'does not pass while the database is down');
  t.ok(pings >= 3 && pings < 30, `pinged ${pings} times in 150 ms, with backoff`);
  up = true;
  await waiting;
  t.ok(passed, 'passes once the database answers');
  t.same(
    lines.map((l) => `${l.level} ${l.msg}`),
    ['warn database is unavailable; not pulling events until it answers', 'info database is back; pulling events again'],
  );
  t.match(lines[1]?.obj, { downForMs: Number });
  await gate(new AbortController().signal);
  t.equal(lines.length, 2, 'nothing more to say while it is up');
});

t.test('a fresh answer is trusted for a moment: a busy consumer does not ping before every fetch', async (t) => {
  let pings = 0;
  const gate = waitForDatabase(async () => void pings++, recorder().log, { freshMs: 60_000 });
  for (let i = 0; i < 10; i++) await gate(new AbortController().signal);
  t.equal(pings, 1);
});

t.test('after a connection error in a handler, the next fetch pings however fresh the last answer', async (t) => {
  let pings = 0;
  const gate = waitForDatabase(async () => void pings++, recorder().log, { freshMs: 60_000 });
  await gate(new AbortController().signal);
  gate.suspect();
  await gate(new AbortController().signal);
  await gate(new AbortController().signal);
  t.equal(pings, 2);
});

t.test('a ping that hangs counts as down', async (t) => {
  const { log, lines } = recorder();
  let hang = true;
  const gate = waitForDatabase(() => (hang ? new Promise(() => {}) : Promise.resolve()), log, { pingTimeoutMs: 20, minDelayMs: 5, freshMs: 0 });
  const done = gate(new AbortController().signal);
  await new Promise((r) => setTimeout(r, 60));
  t.equal(lines[0]?.level, 'warn');
  hang = false;
  await done;
  t.equal(lines[1]?.level, 'info');
});

t.test('shutdown ends the wait', async (t) => {
  const ctl = new AbortController();
  const gate = waitForDatabase(() => Promise.reject(refused), recorder().log, { minDelayMs: 60_000 });
  const done = gate(ctl.signal);
  setTimeout(() => ctl.abort(), 20);
  await done;
  t.pass('resolved on abort');
});
