// Fakes behind buildGateway for the security tests that need no platform: a catalog answering
// over a fake NATS request(), a publisher that records, storage nobody listens on (or real ones).
import { getVideoQuery, healthQuery, listVideosQuery, type Publisher, type VideoRecord } from '@reel/events';
import { createLogger, loadConfig } from '@reel/runtime';
import { createStorage, type Storage } from '@reel/storage';
import type { NatsConnection } from '@nats-io/transport-node';
import { buildGateway } from '../src/app.ts';
import { configSpec } from '../src/config.ts';
import type { LiveFeed } from '../src/live.ts';
import { createAuthenticator } from '../src/plugins/auth.ts';
import { createPlayback } from '../src/playback.ts';

export const SECRET = 'security-test-secret-at-least-32-characters';

export function video(id: string, ownerId: string, extra: Partial<VideoRecord> = {}): VideoRecord {
  const now = new Date().toISOString();
  return { id, ownerId, title: 't', description: '', visibility: 'private', status: 'processing', createdAt: now, updatedAt: now, ...extra };
}

export interface Fakes {
  records: Map<string, VideoRecord>;
  published: { subject: string; data: unknown; id: string | undefined }[];
  /** Subjects of every query asked, in order. */
  queries: string[];
  /** While true, every query times out (the catalog or NATS is down). */
  down: { catalog: boolean };
}

const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function fakeNats(f: Fakes): NatsConnection {
  return {
    async request(subject: string, body: string) {
      f.queries.push(subject);
      if (f.down.catalog) throw Object.assign(new Error('timeout'), { name: 'TimeoutError' });
      const req = JSON.parse(body) as Record<string, unknown>;
      if (subject === getVideoQuery.subject) {
        const v = f.records.get(req.id as string);
        if (!v || (v.visibility !== 'public' && v.ownerId !== req.viewer))
          return { data: encode({ ok: false, error: { code: 'not_found', message: 'no such video' } }) };
        return { data: encode({ ok: true, result: v }) };
      }
      if (subject === listVideosQuery.subject)
        return { data: encode({ ok: true, result: { items: [...f.records.values()].filter((v) => v.ownerId === req.ownerId), nextCursor: null } }) };
      if (subject.startsWith(healthQuery('x').subject.slice(0, -1)))
        return { data: encode({ ok: true, result: { service: subject.split('.').at(-1), status: 'up', uptimeSec: 1 } }) };
      throw new Error(`unexpected query ${subject}`);
    },
  } as unknown as NatsConnection;
}

/** The gateway with `env` over the defaults, on fakes; close it with app.close(). */
export async function testGateway(
  env: Record<string, string> = {},
  patch: (s: Storage) => Partial<Storage> = () => ({}),
  real: { nc?: NatsConnection; publisher?: Publisher } = {},
) {
  const config = loadConfig(configSpec, { AUTH_JWT_SECRET: SECRET, S3_ENDPOINT: 'http://127.0.0.1:9', LOG_LEVEL: 'silent', ...env });
  const fakes: Fakes = { records: new Map(), published: [], queries: [], down: { catalog: false } };
  const base = createStorage(config, { retryBudgetMs: 200 });
  const storage = { ...base, ...patch(base) } as Storage;
  const live: LiveFeed = { listen: () => () => {}, announced: () => false, close() {} };
  const app = await buildGateway({
    config,
    log: createLogger('gateway', 'silent'),
    nc: real.nc ?? fakeNats(fakes),
    publisher: real.publisher ?? {
      async publish(subject, data, opts = {}) {
        fakes.published.push({ subject, data, id: opts.id });
        return { id: opts.id ?? 'x', seq: fakes.published.length, duplicate: false };
      },
    },
    storage,
    auth: createAuthenticator({ secret: config.AUTH_JWT_SECRET, jwksUrl: config.AUTH_JWKS_URL }),
    playback: createPlayback({ secret: SECRET, ttlSec: 3600, storage, baseUrl: 'http://gateway.test' }),
    live,
  });
  return { app, config, ...fakes, fakes };
}
