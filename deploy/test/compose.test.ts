// docker-compose.yml, as docker-compose resolves it (anchors, merges, ${VAR:-default}): every
// app's environment must satisfy that app's real config schema, { ...natsSpec, ...configSpec },
// with no variable the schema does not know (a misspelt name would be silently ignored by the
// app and its default used instead).
//
// Needs `docker-compose` (Debian's 1.29 validates offline, no Docker engine) or `docker compose`;
// skipped with a message when neither is installed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { loadConfig } from '../../packages/runtime/src/mod.ts';
import { NODE_FLAGS } from '../../packages/stack/src/apps.ts';
import { APPS, ENDPOINTS, isKnown, SCHEMAS } from './schemas.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FILE = join(ROOT, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string | number | null>;
  ports?: unknown[];
  container_name?: string;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  entrypoint?: string[];
  volumes?: unknown[];
}

function composeCommand(): string[] | undefined {
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose'];
  return undefined;
}

const cmd = composeCommand();
if (!cmd) {
  t.skip('docker-compose is not installed: `apt-get install -y docker-compose` (1.29 validates the file offline, no engine needed)', () => {});
} else {
  // the file's ${REEL_*:-default} fall back to their defaults, whatever this shell has set
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REEL_') && !k.startsWith('COMPOSE_')));
  const run = (args: string[]) => spawnSync(cmd[0]!, [...cmd.slice(1), '-f', FILE, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });

  t.test('docker-compose config -q accepts the file', async (t) => {
    const r = run(['config', '-q']);
    t.equal(r.status, 0, r.stderr);
  });

  const resolved = run(['config']);
  const doc = parse(resolved.stdout) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
  const services = doc.services;

  t.test('infrastructure: NATS JetStream, Postgres 16, MinIO + bucket job, Jaeger', async (t) => {
    const nats = services.nats!;
    t.ok(nats.command?.includes('-js'), 'nats runs with JetStream');
    t.ok(
      nats.volumes?.some((v) => JSON.stringify(v).includes('/data')),
      'JetStream store on a volume',
    );
    t.match(services.postgres?.image, /^postgres:16/);
    t.match(services.minio?.image, /^minio\/minio:/);
    const mc = services['minio-init']!;
    t.match(mc.image, /^minio\/mc:/);
    const script = (mc.entrypoint ?? []).join(' ');
    for (const bucket of ['reel-sources', 'reel-media']) t.match(script, bucket, `minio-init creates ${bucket}`);
    t.match(services.jaeger?.image, /^jaegertracing\/all-in-one:/);
    t.ok(
      services.jaeger?.ports?.some((p) => JSON.stringify(p).includes('16686')),
      'Jaeger UI published',
    );
  });

  for (const app of APPS) {
    const schema = SCHEMAS[app];
    t.test(`${app}: environment matches its config schema`, async (t) => {
      const svc = services[app];
      if (!svc) {
        t.fail(`no ${app} service`);
        return;
      }
      const envOf = Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, v === null ? undefined : String(v)]));

      // the real loader: every value parses, nothing required is missing
      t.doesNotThrow(() => loadConfig(schema, envOf), 'loadConfig accepts it');

      // nothing it does not know (misspellings would be ignored silently)
      const unknown = Object.keys(envOf).filter((k) => !isKnown(app, k));
      t.same(unknown, [], 'every variable is in the schema (or OTEL_*)');

      for (const key of ENDPOINTS.filter((k) => k in schema)) {
        const value = envOf[key];
        t.ok(value, `${key} is set`);
        if (value) t.notMatch(new URL(value.split(',')[0]!).hostname, /^(127\.|localhost$)/, `${key} points at another container`);
      }
      t.equal(envOf.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://jaeger:4318');
      t.equal(envOf.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/protobuf');
      if ('S3_SOURCE_BUCKET' in schema) {
        t.equal(envOf.S3_SOURCE_BUCKET, 'reel-sources');
        t.equal(envOf.S3_MEDIA_BUCKET, 'reel-media');
      }
    });

    t.test(`${app}: built from the Dockerfile, runs its own main.ts, healthy before dependents start`, async (t) => {
      const svc = services[app]!;
      t.ok(svc.build, 'built from the repository');
      t.equal(svc.build && existsSync(join(svc.build.context, svc.build.dockerfile ?? 'Dockerfile')), true, 'Dockerfile exists');
      t.same(svc.command, ['node', ...(NODE_FLAGS[app] ?? []), `apps/${app}/src/main.ts`], 'with the node flags npm start gives it');
      t.ok(existsSync(join(ROOT, 'apps', app, 'src', 'main.ts')));
      const test = svc.healthcheck?.test ?? [];
      t.ok(test.length, 'has a healthcheck');
      if (app !== 'gateway') {
        t.same(test, ['CMD', 'node', 'deploy/healthcheck.ts', app], 'deploy/healthcheck.ts for this app');
        t.ok(existsSync(join(ROOT, 'deploy', 'healthcheck.ts')));
      }
      const deps = svc.depends_on as Record<string, { condition: string }>;
      t.ok(deps && !Array.isArray(deps), 'depends_on with conditions');
      for (const [dep, { condition }] of Object.entries(deps ?? {})) {
        t.ok(services[dep], `${dep} exists`);
        t.ok(['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition), `${dep}: ${condition}`);
        if (condition === 'service_healthy') t.ok(services[dep]?.healthcheck, `${dep} has a healthcheck to wait for`);
      }
      t.equal(deps?.nats?.condition, 'service_healthy', 'waits for NATS');
    });
  }

  t.test('gateway: on localhost:8080, listening on every interface, with a token secret', async (t) => {
    const gw = services.gateway!;
    const env = gw.environment ?? {};
    t.equal(env.HOST, '0.0.0.0');
    t.ok(
      gw.ports?.some((p) => /^(127\.0\.0\.1:)?8080:8080/.test(typeof p === 'string' ? p : `${(p as { published?: number }).published}:8080`)),
      JSON.stringify(gw.ports),
    );
    t.ok(env.AUTH_JWT_SECRET || env.AUTH_JWKS_URL, 'the gateway refuses to start without AUTH_JWT_SECRET or AUTH_JWKS_URL');
    t.match(gw.healthcheck?.test.join(' ') ?? '', /\/v1\/health/);
  });

  t.test('catalog: waits for Postgres; transcoder: scalable (`--scale transcoder=3`)', async (t) => {
    const deps = services.catalog?.depends_on as Record<string, { condition: string }>;
    t.equal(deps?.postgres?.condition, 'service_healthy');
    const tr = services.transcoder!;
    t.notOk(tr.container_name, 'no container_name');
    t.notOk(tr.ports?.length, 'no published port');
    for (const [name, svc] of Object.entries(services)) t.notOk(svc.container_name, `${name}: no container_name`);
  });
}
