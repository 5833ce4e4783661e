// The gateway for the security tests that need no platform, faked at its own seams as helper.ts
// does (the catalog and the liveness probe in memory, a publisher that records), not at the NATS
// protocol; storage is a real client whose endpoint nobody listens on, patched per test. Given a
// real NATS connection (the outage tests), the gateway builds its catalog and probe on it instead.
import { type Publisher, QueryError, type VideoRecord } from '@reel/events';
import { createLogger, loadConfig } from '@reel/runtime';
import { createStorage, type Storage } from '@reel/storage';
import type { NatsConnection } from '@nats-io/transport-node';
import { buildGateway } from '../src/app.ts';
import { configSpec } from '../src/config.ts';
import type { LiveFeed } from '../src/live.ts';
import { createAuthenticator } from '../src/plugins/auth.ts';
import { createPlayback } from '../src/playback.ts';
import type { Catalog, Liveness } from '../src/services.ts';

export { errorOf, video } from './helper.ts';

export const SECRET = 'security-test-secret-at-least-32-characters';

export interface Fakes {
  records: Map<string, VideoRecord>;
  published: { subject: string; data: unknown; id: string | undefined }[];
  /** What the gateway asked, in order: `get <id>`, `list <owner>`, `health <service>`. */
  queries: string[];
  /** While true, nothing answers (the catalog or NATS is down). */
  down: { catalog: boolean };
}

/** Records a question, answered only while the catalog is up (as a query over NATS would be). */
function asked(f: Fakes, what: string): void {
  f.queries.push(what);
  if (f.down.catalog) throw new QueryError('unavailable', 'no answer');
}

function fakeCatalog(f: Fakes): Catalog {
  const page = (items: VideoRecord[]) => ({ items: items.map((v) => structuredClone(v)), nextCursor: null });
  return {
    async get(id, viewer) {
      asked(f, `get ${id}`);
      const v = f.records.get(id);
      if (!v || (v.visibility !== 'public' && v.ownerId !== viewer)) throw new QueryError('not_found', 'no such video');
      return structuredClone(v);
    },
    async list({ ownerId }) {
      asked(f, `list ${ownerId}`);
      return page([...f.records.values()].filter((v) => v.ownerId === ownerId));
    },
    async listPublic() {
      asked(f, 'list public');
      return page([...f.records.values()].filter((v) => v.visibility === 'public' && v.status === 'ready'));
    },
  } as Catalog;
}

const fakeLiveness = (f: Fakes): Liveness => ({
  async isUp(service) {
    try {
      asked(f, `health ${service}`);
      return true;
    } catch {
      return false;
    }
  },
});

/** A putStream for bytes that go nowhere: reads the body to its end and returns its size. */
export async function discard(body: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const chunk of body) n += (chunk as Buffer).length;
  return n;
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
    ...(real.nc ? { nc: real.nc } : { catalog: fakeCatalog(fakes), liveness: fakeLiveness(fakes) }),
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
