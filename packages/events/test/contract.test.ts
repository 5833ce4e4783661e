import { Type as T } from '@sinclair/typebox';
import t from 'tap';
import { decodeEnvelope, InvalidMessageError, makeEnvelope, type Registry, registry, type Subject } from '../src/mod.ts';
import { fixtures, VIDEO } from './fixtures.ts';

const subjects = Object.keys(registry) as Subject[];

t.test('every subject accepts its valid fixture and refuses its invalid one', async (t) => {
  for (const subject of subjects) {
    const { valid, invalid } = fixtures[subject];
    const env = makeEnvelope(registry, subject, valid as never);
    t.equal(env.type, subject);
    t.same(decodeEnvelope(registry, subject, JSON.stringify(env)).data, valid, `${subject} round-trips`);
    t.throws(() => makeEnvelope(registry, subject, invalid as never), InvalidMessageError, `${subject} producer refuses invalid data`);
    const forged = JSON.stringify({ ...env, data: invalid });
    t.throws(() => decodeEnvelope(registry, subject, forged), InvalidMessageError, `${subject} consumer refuses invalid data`);
  }
});

t.test('decode explains what is wrong', async (t) => {
  const err = t.throws(() =>
    decodeEnvelope(
      registry,
      'live.progress',
      JSON.stringify(makeEnvelope(registry, 'live.progress', { videoId: VIDEO, stage: 'transcode', percent: 1 })).replace('"percent":1', '"percent":"lots"'),
    ),
  ) as InvalidMessageError;
  t.match(err.message, /invalid live\.progress event/);
  t.match(err.problems.join(), /\/percent/);
  t.throws(() => decodeEnvelope(registry, 'live.progress', 'not json'), { message: /not JSON/ });
  t.throws(() => decodeEnvelope(registry, 'live.progress', '{"id":"x"}'), { message: /not an envelope/ });
  t.throws(
    () => decodeEnvelope(registry, 'video.nope', JSON.stringify({ id: 'a', type: 'video.nope', version: 1, occurredAt: new Date().toISOString(), data: {} })),
    {
      message: /unknown subject/,
    },
  );
  const future = { ...makeEnvelope(registry, 'video.deleted', { videoId: VIDEO, ownerId: 'u' }), version: 9 };
  t.throws(() => decodeEnvelope(registry, 'video.deleted', JSON.stringify(future)), { message: /newer than this service knows/ });
});

t.test('upcasters turn old versions into the latest shape', async (t) => {
  // a contract at version 3, whose v1 had `name` and v2 renamed it `title`, then v3 added `tags`
  const reg = {
    'video.renamed': {
      version: 3,
      schema: T.Object({ videoId: T.String(), title: T.String(), tags: T.Array(T.String()) }),
      upcasters: {
        1: (d: unknown) => {
          const { name, ...rest } = d as { name: string };
          return { ...rest, title: name };
        },
        2: (d: unknown) => ({ ...(d as object), tags: [] }),
      },
    },
  } satisfies Registry;
  const v1 = { id: 'e1', type: 'video.renamed', version: 1, occurredAt: new Date().toISOString(), data: { videoId: VIDEO, name: 'old' } };
  const decoded = decodeEnvelope(reg, 'video.renamed', JSON.stringify(v1));
  t.equal(decoded.version, 3);
  t.same(decoded.data, { videoId: VIDEO, title: 'old', tags: [] });
  const v2 = { ...v1, version: 2, data: { videoId: VIDEO, title: 'mid' } };
  t.same(decodeEnvelope(reg, 'video.renamed', JSON.stringify(v2)).data, { videoId: VIDEO, title: 'mid', tags: [] });
  const broken = { ...v1, data: { videoId: VIDEO } };
  t.throws(() => decodeEnvelope(reg, 'video.renamed', JSON.stringify(broken)), InvalidMessageError, 'an upcast result is still validated');
  const noPath = { 'video.renamed': { ...reg['video.renamed'], upcasters: { 2: reg['video.renamed'].upcasters[2] } } } satisfies Registry;
  t.throws(() => decodeEnvelope(noPath, 'video.renamed', JSON.stringify(v1)), { message: /no upcaster from version 1/ });
});

t.test('the platform registry has no version without its upcasters', async (t) => {
  for (const [subject, def] of Object.entries(registry as Registry)) {
    for (let v = 1; v < def.version; v++) t.type(def.upcasters?.[v], 'function', `${subject} v${v} → v${v + 1}`);
  }
  t.pass('checked');
});
