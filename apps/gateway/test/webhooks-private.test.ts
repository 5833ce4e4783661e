import { INTERNAL_URLS, startTestPlatform, until } from '@reel/stack';
import t from 'tap';

// Without WEBHOOK_ALLOW_PRIVATE (the default), a webhook may not point inside the network.
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let alice = '';
t.before(async () => {
  platform = await startTestPlatform(t.teardown);
  alice = await platform.token('alice');
});
const create = (url: string) =>
  fetch(`${platform.url}/v1/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url }),
  });
/** The first answer that is not "the webhooks service is still starting". */
const answer = (url: string): Promise<Response> =>
  until(
    'the webhooks service to answer',
    async () => {
      const res = await create(url);
      return res.status !== 503 && res;
    },
    { timeoutMs: 20_000, everyMs: 100 },
  );

t.test('internal addresses are refused with 400', async (t) => {
  for (const url of INTERNAL_URLS) {
    const res = await answer(url);
    t.equal(res.status, 400, `${url} is refused`);
    const body = (await res.json()) as { error: { code: string; message: string } };
    t.equal(body.error.code, 'bad_request');
    t.match(body.error.message, /internal address/);
  }
  const list = (await (await fetch(`${platform.url}/v1/webhooks`, { headers: { authorization: `Bearer ${alice}` } })).json()) as { items: unknown[] };
  t.same(list.items, [], 'nothing was registered');
});
