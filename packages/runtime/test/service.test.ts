import { JetStreamApiError } from '@nats-io/jetstream';
import { silentLogger } from '@reel/events';
import t from 'tap';
import { whenJetStreamReady } from '../src/service.ts';

const refusal = (code: number, err_code: number, description: string) => new JetStreamApiError({ code, err_code, description });

t.test('a cluster still forming is waited for, not a reason to exit', async (t) => {
  const said = [refusal(400, 10005, 'no suitable peers for placement'), refusal(503, 10008, 'JetStream system temporarily unavailable')];
  let calls = 0;
  const result = await whenJetStreamReady(async () => {
    const err = said[calls++];
    if (err) throw err;
    return 'placed';
  }, silentLogger);
  t.equal(result, 'placed', 'the call that JetStream took');
  t.equal(calls, 3, 'both refusals were tried again');
});

t.test('any other error fails the start at once', async (t) => {
  let calls = 0;
  const wrong = refusal(400, 10052, 'subjects overlap with an existing stream');
  await t.rejects(
    whenJetStreamReady(async () => {
      calls++;
      throw wrong;
    }, silentLogger),
    wrong,
  );
  t.equal(calls, 1, 'not tried again');
});

t.test('a cluster that stays unready fails the start after the budget, with the last refusal', async (t) => {
  let calls = 0;
  await t.rejects(
    whenJetStreamReady(
      async () => {
        calls++;
        throw refusal(400, 10005, 'no suitable peers for placement');
      },
      silentLogger,
      500,
    ),
    /no suitable peers/,
  );
  t.ok(calls >= 2 && calls <= 4, `tried ${calls} times within 500 ms`);
});
