import t from 'tap';
import { ConfigError, env, loadConfig, natsSpec } from '../src/mod.ts';

t.test('defaults work with an empty environment', async (t) => {
  const c = loadConfig({ ...natsSpec, BUCKET: env.string({ default: 'reel-media', doc: 'a bucket' }) }, {});
  t.equal(c.NATS_URL, 'nats://127.0.0.1:4222');
  t.equal(c.NATS_STREAM_REPLICAS, 1);
  t.equal(c.BUCKET, 'reel-media');
  t.ok(Object.isFrozen(c), 'config is frozen');
});

t.test('one error lists every problem, and hides secret values', async (t) => {
  const spec = {
    ...natsSpec,
    PORT: env.int({ default: 8080, min: 0, max: 65535, doc: 'port' }),
    TOKEN: env.string({ secret: true, minLength: 32, doc: 'a secret' }),
    MODE: env.oneOf(['a', 'b'], { doc: 'mode' }),
  };
  const err = t.throws(() => loadConfig(spec, { NATS_URL: 'http://x', PORT: '99999', TOKEN: 'short-secret', NATS_STREAM_REPLICAS: 'three' })) as ConfigError;
  t.type(err, ConfigError);
  t.equal(err.problems.length, 5, err.message);
  t.match(err.message, /NATS_URL must use nats/);
  t.match(err.message, /PORT must be ≤ 65535/);
  t.match(err.message, /NATS_STREAM_REPLICAS must be an integer/);
  t.match(err.message, /MODE is required/);
  t.match(err.message, /TOKEN must be at least 32 characters/);
  t.notMatch(err.message, /short-secret/, 'a secret value never appears');
});
