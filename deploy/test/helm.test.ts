// The Helm chart (deploy/helm/reel), tested without helm and without a cluster:
//  - values.yaml and every examples/*.yaml (merged over values.yaml, as Helm merges them) pass
//    values.schema.json with a real JSON-schema validator (ajv), and bad values fail it;
//  - templates only read values that exist in values.yaml, and every value is read somewhere;
//  - every template's block actions ({{ if/range/with/define/block }}) match its {{ end }}s;
//  - the variables each service gets are in its config schema ({ ...natsSpec, ...configSpec }).
// Where a `helm` binary is on PATH, it also runs `helm lint` and `helm template`
// on the defaults and the examples and checks the rendered objects.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ajv from 'ajv';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../packages/runtime/src/mod.ts';
import { NODE_FLAGS } from '../../packages/stack/src/apps.ts';
import { type App, APPS, ENDPOINTS, isKnown, SCHEMAS } from './schemas.ts';

// ajv is CommonJS: its class is both module.exports and module.exports.default
const Ajv = ajv.default;
const CHART = join(import.meta.dirname, '..', 'helm', 'reel');
const TEMPLATES = join(CHART, 'templates');

type Values = Record<string, unknown>;
const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);
const readYaml = (file: string) => parse(readFileSync(file, 'utf8')) as Values;

const defaults = readYaml(join(CHART, 'values.yaml'));
const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as object;
const examples = readdirSync(join(CHART, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(CHART, 'examples', f));

/** Helm's merge of user values over the chart's: maps merge key by key, anything else replaces. */
function coalesce(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isMap(v) && isMap(base[k]) ? coalesce(base[k] as Values, v) : v;
  return out;
}

function walkFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walkFiles(join(dir, e.name)) : [join(dir, e.name)]));
}
const templateFiles = walkFiles(TEMPLATES);
const stripComments = (text: string) => text.replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '');

// ---------------------------------------------------------------------------------------------
t.test('values.schema.json accepts values.yaml and the examples', async (t) => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  const validate = ajv.compile(schema);
  t.ok(validate(defaults), `values.yaml: ${ajv.errorsText(validate.errors)}`);
  t.ok(examples.length >= 2, 'at least two examples');
  for (const file of examples) {
    const merged = coalesce(defaults, readYaml(file));
    t.ok(validate(merged), `${relative(CHART, file)}: ${ajv.errorsText(validate.errors)}`);
  }
});

t.test('values.schema.json refuses bad values', async (t) => {
  const ajv = new Ajv({ allErrors: true, strict: true });
  const validate = ajv.compile(schema);
  const bad: [string, Values][] = [
    ['replicas: "three"', { transcoder: { replicas: 'three' } }],
    ['an unknown top-level key', { replica: 3 }],
    ['an unknown key in a service', { ingest: { port: 8080 } }],
    ['an unknown key in s3', { s3: { bucket: 'x' } }],
    ['an unknown key in autoscaling', { gateway: { autoscaling: { targetMemory: 80 } } }],
    ['a short AUTH_JWT_SECRET', { auth: { jwtSecret: 'too-short' } }],
    ['a non-postgres DATABASE_URL', { postgres: { url: 'mysql://db/reel' } }],
    ['an S3 endpoint without scheme', { s3: { endpoint: 'minio:9000' } }],
    ['an invalid bucket name', { s3: { mediaBucket: 'Reel_Media' } }],
    ['more stream replicas than NATS allows', { jetstream: { streamReplicas: 7 } }],
    ['an unknown x264 preset', { transcoder: { x264Preset: 'placebo' } }],
    ['an unknown log level', { logLevel: 'verbose' }],
    ['a bad pull policy', { image: { pullPolicy: 'Sometimes' } }],
    ['a NATS URL of another scheme', { nats: { enabled: false }, externalNats: { url: 'http://nats:4222' } }],
    ['a non-boolean nats.enabled', { nats: { enabled: 'yes' } }],
  ];
  for (const [what, over] of bad) t.notOk(validate(coalesce(defaults, over)), `refused: ${what}`);
});

// ---------------------------------------------------------------------------------------------
/**
 * Keys whose contents are free-form by design (Kubernetes objects, annotations, the NATS
 * chart's own values): a template may read any path below them.
 */
const FREE_FORM = new Set([
  'nats',
  'podAnnotations',
  'podLabels',
  'annotations',
  'nodeSelector',
  'tolerations',
  'affinity',
  'topologySpreadConstraints',
  'resources',
  'extraEnv',
  'podSecurityContext',
  'securityContext',
  'imagePullSecrets',
]);

/** True when `path` exists in values.yaml, or goes through a free-form key. */
function exists(values: Values, path: string[]): boolean {
  let cur: unknown = values;
  for (const key of path) {
    if (!isMap(cur) || !(key in cur)) return false;
    if (FREE_FORM.has(key)) return true;
    cur = cur[key];
  }
  return true;
}

/** Paths read by the templates: `.Values.a.b`, `.root.Values.a.b`, and `$v.a` (= `.Values.<app>.a` for every app). */
function referencedPaths(): { file: string; path: string[] }[] {
  const out: { file: string; path: string[] }[] = [];
  for (const file of templateFiles) {
    const text = stripComments(readFileSync(file, 'utf8'));
    for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) out.push({ file, path: m[1]!.slice(1).split('.') });
    if (/\$v := index \$\.Values \$app/.test(text)) {
      for (const m of text.matchAll(/\$v((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        for (const app of APPS) out.push({ file, path: [app, ...m[1]!.slice(1).split('.')] });
      }
    }
  }
  return out;
}

t.test('templates read only values that exist in values.yaml', async (t) => {
  const refs = referencedPaths();
  t.ok(refs.length > 50, `${refs.length} references found`);
  const missing = refs.filter((r) => !exists(defaults, r.path)).map((r) => `${relative(CHART, r.file)}: .Values.${r.path.join('.')}`);
  t.same([...new Set(missing)], [], 'every .Values path is defined');
  // the services a template ranges over (`index $.Values $app`) are all in values.yaml
  const helpers = readFileSync(join(TEMPLATES, '_helpers.tpl'), 'utf8');
  const apps = /define "reel\.apps"[\s\S]*?list ((?:"[a-z]+"\s*)+)/.exec(helpers)?.[1]?.match(/[a-z]+/g) ?? [];
  t.same([...apps].sort(), [...APPS].sort(), 'reel.apps lists the five services');
  for (const app of apps) t.ok(isMap(defaults[app]), `values.yaml has ${app}`);
});

t.test('every value in values.yaml is read by some template', async (t) => {
  const refs = referencedPaths().map((r) => r.path.join('.'));
  const leaves: string[] = [];
  const walk = (v: unknown, path: string[]) => {
    const last = path[path.length - 1];
    if (path.length && (!isMap(v) || FREE_FORM.has(last!) || Object.keys(v).length === 0)) {
      leaves.push(path.join('.'));
      return;
    }
    for (const [k, child] of Object.entries(v as Values)) walk(child, [...path, k]);
  };
  walk({ ...defaults, nats: { enabled: true } }, []);
  const unused = leaves.filter((leaf) => !refs.some((r) => leaf === r || leaf.startsWith(`${r}.`) || r.startsWith(`${leaf}.`)));
  t.same(unused, [], 'no dead setting');
});

// ---------------------------------------------------------------------------------------------
/** Counts block openers and `end`s in a Go template (comments and string contents aside). */
export function blockBalance(text: string): { opens: number; ends: number; problems: string[] } {
  let opens = 0;
  let ends = 0;
  let depth = 0;
  const problems: string[] = [];
  for (const m of stripComments(text).matchAll(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g)) {
    const word = /^([a-z]+)\b/.exec(m[1]!)?.[1];
    if (word === 'if' || word === 'range' || word === 'with' || word === 'define' || word === 'block') {
      opens++;
      depth++;
    } else if (word === 'end') {
      ends++;
      depth--;
      if (depth < 0) problems.push(`an {{ end }} without a block at offset ${m.index}`);
    } else if (word === 'else' && depth === 0) {
      problems.push(`an {{ else }} outside a block at offset ${m.index}`);
    }
  }
  return { opens, ends, problems };
}

t.test('every template balances its blocks', async (t) => {
  t.same(blockBalance('{{- if .a }}{{ range .b }}{{ end }}{{- else if .c }}{{ end }}'), { opens: 2, ends: 2, problems: [] });
  t.same(blockBalance('{{ if .a }}{{/* {{ end }} */}}').opens, 1);
  t.not(blockBalance('{{ with .a }}{{ end }}{{ end }}').problems.length, 0);
  for (const file of templateFiles) {
    const { opens, ends, problems } = blockBalance(readFileSync(file, 'utf8'));
    t.equal(opens, ends, `${relative(CHART, file)}: ${opens} blocks, ${ends} ends`);
    t.same(problems, [], relative(CHART, file));
  }
  // and the actions themselves are closed
  for (const file of templateFiles) {
    const text = stripComments(readFileSync(file, 'utf8'));
    t.equal((text.match(/\{\{/g) ?? []).length, (text.match(/\}\}/g) ?? []).length, `${relative(CHART, file)}: {{ and }} pair up`);
  }
});

// ---------------------------------------------------------------------------------------------
/** The body of each `{{ define "name" }}` in _helpers.tpl. */
function defines(): Map<string, string> {
  const text = stripComments(readFileSync(join(TEMPLATES, '_helpers.tpl'), 'utf8'));
  const out = new Map<string, string>();
  const actions = [...text.matchAll(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g)];
  for (let i = 0; i < actions.length; i++) {
    const name = /^define "([^"]+)"/.exec(actions[i]![1]!)?.[1];
    if (!name) continue;
    let depth = 1;
    for (let j = i + 1; j < actions.length; j++) {
      const word = /^([a-z]+)\b/.exec(actions[j]![1]!)?.[1];
      if (word === 'if' || word === 'range' || word === 'with' || word === 'define' || word === 'block') depth++;
      else if (word === 'end' && --depth === 0) {
        out.set(name, text.slice(actions[i]!.index! + actions[i]![0].length, actions[j]!.index));
        break;
      }
    }
  }
  return out;
}

/** ConfigMap keys a `reel.config.<app>` define can produce, following its includes. */
function configKeys(defs: Map<string, string>, name: string): Set<string> {
  const body = defs.get(name) ?? '';
  const keys = new Set([...body.matchAll(/^([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!));
  for (const m of body.matchAll(/include "(reel\.config\.[a-z0-9]+)"/g)) for (const k of configKeys(defs, m[1]!)) keys.add(k);
  return keys;
}

t.test('each service gets only variables of its config schema', async (t) => {
  const defs = defines();
  for (const app of APPS) {
    const keys = configKeys(defs, `reel.config.${app}`);
    t.ok(keys.size > 0, `reel.config.${app} is defined`);
    t.same(
      [...keys].filter((k) => !isKnown(app, k)),
      [],
      `${app}: ConfigMap keys are in its schema`,
    );
    for (const key of ENDPOINTS.filter((k) => k in SCHEMAS[app] && k !== 'DATABASE_URL')) t.ok(keys.has(key), `${app}: ${key} is set`);
  }
  const secretNames = [...(defs.get('reel.secretEnv') ?? '').matchAll(/- name: ([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!);
  t.same(
    new Set(secretNames),
    new Set(['DATABASE_URL', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'AUTH_JWT_SECRET', 'PLAYBACK_SIGNING_SECRET']),
    'credentials from the Secret',
  );
  for (const name of secretNames)
    t.ok(
      APPS.some((app) => name in SCHEMAS[app] && SCHEMAS[app][name]?.secret),
      `${name} is a secret of some schema`,
    );
  const secretKeys = [...readFileSync(join(TEMPLATES, 'secret.yaml'), 'utf8').matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!);
  t.same(new Set(secretKeys), new Set(secretNames), 'the chart-made Secret has exactly those keys');
});

t.test('Chart.yaml: the official NATS chart as an optional dependency, JetStream clustered', async (t) => {
  const chart = readYaml(join(CHART, 'Chart.yaml')) as { apiVersion: string; dependencies?: Values[] };
  t.equal(chart.apiVersion, 'v2');
  const nats = chart.dependencies?.find((d) => d.name === 'nats');
  t.ok(nats, 'nats dependency');
  t.equal(nats?.repository, 'https://nats-io.github.io/k8s/helm/charts/');
  t.equal(nats?.condition, 'nats.enabled');
  const v = defaults.nats as { enabled: boolean; config: { cluster: Values; jetstream: Values } };
  t.equal(v.enabled, true);
  t.same([v.config.cluster.enabled, v.config.cluster.replicas, v.config.jetstream.enabled], [true, 3, true]);
  t.equal((defaults.jetstream as Values).streamReplicas, 3, 'the VIDEO stream is replicated on the cluster');
});

// ---------------------------------------------------------------------------------------------
function findHelm(): string | undefined {
  return spawnSync('helm', ['version', '--short'], { stdio: 'ignore' }).status === 0 ? 'helm' : undefined;
}
const helm = findHelm();

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: Values;
}

t.test('helm lint and helm template', { skip: !helm && 'no helm on PATH: the static checks above stand in for it' }, async (t) => {
  // the NATS dependency: the real one after `helm dependency update`, else a stub (no network)
  const dir = mkdtempSync(join(tmpdir(), 'reel-chart-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const chart = join(dir, 'reel');
  cpSync(CHART, chart, { recursive: true });
  if (!existsSync(join(CHART, 'charts')) || !readdirSync(join(CHART, 'charts')).some((f) => f.startsWith('nats'))) {
    mkdirSync(join(chart, 'charts', 'nats'), { recursive: true });
    writeFileSync(join(chart, 'charts', 'nats', 'Chart.yaml'), 'apiVersion: v2\nname: nats\nversion: 1.3.0\n');
  }
  const run = (args: string[]) => spawnSync(helm!, args, { encoding: 'utf8', timeout: 60_000 });

  const cases: [string, string[]][] = [
    ['defaults', []],
    ...examples.map((f): [string, string[]] => [relative(CHART, f), ['-f', f]]),
    [
      'keda + credentials + JWKS',
      ['--set', 'keda.enabled=true,postgres.url=postgres://u:p@db:5432/reel,s3.accessKey=a,s3.secretKey=b,auth.jwksUrl=https://idp.example.com/jwks.json'],
    ],
  ];
  for (const [name, args] of cases) {
    const lint = run(['lint', chart, ...args]);
    t.equal(lint.status, 0, `helm lint (${name}): ${lint.stdout}${lint.stderr}`);
    const out = run(['template', 'reel', chart, '--namespace', 'reel', ...args]);
    t.equal(out.status, 0, `helm template (${name}): ${out.stderr}`);
    if (out.status !== 0) continue;
    const objects = parseAllDocuments(out.stdout)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => Boolean(o));
    const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
    const configMaps = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]));
    const placeholders: Record<string, string> = {
      DATABASE_URL: 'postgres://reel:secret@db:5432/reel',
      S3_ACCESS_KEY: 'key',
      S3_SECRET_KEY: 'secret',
      AUTH_JWT_SECRET: 'x'.repeat(32),
      PLAYBACK_SIGNING_SECRET: 'y'.repeat(32),
    };
    t.equal(byKind('Deployment').length, 5, `${name}: five Deployments`);
    for (const dep of byKind('Deployment')) {
      const pod = (dep.spec as { template: { spec: Values } }).template.spec as {
        securityContext: Values;
        containers: { command: string[]; envFrom: { configMapRef: { name: string } }[]; env?: { name: string; value?: string }[]; [k: string]: unknown }[];
        volumes: { name: string; emptyDir?: Values }[];
      };
      const c = pod.containers[0]!;
      const app = c.command.at(-1)?.split('/')[1] as App;
      t.ok(APPS.includes(app), `${name}: ${dep.metadata.name} runs apps/${app}/src/main.ts`);
      t.same(c.command, ['node', ...(NODE_FLAGS[app] ?? []), `apps/${app}/src/main.ts`], `${name}: ${app} has the node flags npm start gives it`);
      const env: Record<string, string> = { ...configMaps.get(c.envFrom[0]!.configMapRef.name) };
      for (const e of c.env ?? []) env[e.name] = e.value ?? placeholders[e.name] ?? '';
      t.same(
        Object.keys(env).filter((k) => !isKnown(app, k)),
        [],
        `${name}: ${app} variables are in its schema`,
      );
      t.doesNotThrow(() => loadConfig(SCHEMAS[app], env), `${name}: ${app} config loads`);
      for (const key of ENDPOINTS.filter((k) => k in SCHEMAS[app])) {
        t.ok(env[key], `${name}: ${app} ${key} set`);
      }
      t.equal(pod.securityContext.runAsNonRoot, true);
      t.equal((c.securityContext as Values).readOnlyRootFilesystem, true);
      t.ok(
        pod.volumes.some((v) => v.name === 'tmp' && v.emptyDir),
        'emptyDir /tmp',
      );
      t.ok(c.readinessProbe && c.livenessProbe, `${name}: ${app} has probes`);
    }
    t.ok(byKind('PodDisruptionBudget').length >= 5, `${name}: PDBs`);
    const job = byKind('Job').find((j) => j.metadata.name.endsWith('-migrate'));
    t.match(job?.metadata.annotations?.['helm.sh/hook'] ?? '', 'pre-install', `${name}: migration hook`);
    if (args.join(' ').includes('keda.enabled=true') || name.includes('aws')) {
      const so = byKind('ScaledObject')[0];
      t.ok(so, `${name}: KEDA ScaledObject`);
      t.notOk(
        byKind('HorizontalPodAutoscaler').some((h) => h.metadata.name.endsWith('-transcoder')),
        `${name}: no CPU HPA on the transcoder with KEDA`,
      );
      const triggers = (so?.spec as { triggers: { type: string; metadata: Values }[] } | undefined)?.triggers ?? [];
      t.ok(triggers.some((tr) => tr.type === 'nats-jetstream' && tr.metadata.stream === 'WORK' && tr.metadata.consumer === 'transcoder'));
    }
  }
});
