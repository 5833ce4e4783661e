import { startTestPlatform } from '@reel/stack';
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
async function answer(url: string): Promise<Response> {
  for (let i = 0; i < 200; i++) {
    const res = await create(url);
    if (res.status !== 503) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the webhooks service never answered');
}

t.test('internal addresses are refused with 400', async (t) => {
  for (const url of [
    'http://10.1.2.3/hook',
    'http://127.0.0.1:9/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]/hook',
    'https://192.168.0.10/',
  ]) {
    const res = await answer(url);
    t.equal(res.status, 400, `${url} is refused`);
    const body = (await res.json()) as { error: { code: string; message: string } };
    t.equal(body.error.code, 'bad_request');
    t.match(body.error.message, /internal address/);
  }
  const list = (await (await fetch(`${platform.url}/v1/webhooks`, { headers: { authorization: `Bearer ${alice}` } })).json()) as { items: unknown[] };
  t.same(list.items, [], 'nothing was registered');
});
