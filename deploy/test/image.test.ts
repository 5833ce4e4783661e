// The Dockerfile and .dockerignore, checked without a Docker engine:
//  - every module the services load at run time (followed from each entry point) is in the
//    build context, and every package they import is a production dependency of the workspace
//    that imports it (the image installs with `npm ci --omit=dev`);
//  - runtime files (migrations, web assets, manifests, lockfile) are not ignored, tests are;
//  - the Dockerfile's promises: node:24-bookworm-slim, Debian ffmpeg, production dependencies
//    only, a numeric non-root user, and the command picks the app.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, matchesGlob, relative, resolve } from 'node:path';
import t from 'tap';
import { APPS } from './schemas.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const ENTRY_POINTS = [...APPS.map((app) => `apps/${app}/src/main.ts`), 'apps/catalog/src/migrate.ts', 'deploy/healthcheck.ts'];

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  exports?: string | Record<string, string>;
}

/** Every workspace (and the root), by directory and by package name. */
function workspaces(): Map<string, { dir: string; manifest: Manifest }> {
  const out = new Map<string, { dir: string; manifest: Manifest }>();
  const add = (dir: string) => {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
      out.set(manifest.name, { dir, manifest });
    }
  };
  add(ROOT);
  for (const group of ['apps', 'packages']) for (const d of readdirSync(join(ROOT, group))) add(join(ROOT, group, d));
  return out;
}

const WS = workspaces();
const ownerOf = (file: string) =>
  [...WS.values()].filter((w) => file.startsWith(`${w.dir}/`)).sort((a, b) => b.dir.length - a.dir.length)[0] ?? WS.get('reel')!;
const packageName = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);

/** Specifiers a module loads at run time (`import type`/`export type` are erased; `import { type X }` is not). */
export function runtimeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?(?:[\s\S]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) if (!m[2]) out.push(m[3]!);
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** Follows the module graph from the entry points: files in the repo, and external packages by importer. */
function moduleGraph(): { files: Set<string>; external: { pkg: string; from: string }[] } {
  const files = new Set<string>();
  const external: { pkg: string; from: string }[] = [];
  const queue = ENTRY_POINTS.map((f) => join(ROOT, f));
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of runtimeImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      if (spec.startsWith('.')) {
        queue.push(resolve(dirname(file), spec));
        continue;
      }
      const pkg = packageName(spec);
      const ws = WS.get(pkg);
      if (ws) {
        // a workspace: declared by the importer, then followed through its `exports`
        external.push({ pkg, from: file });
        const sub = spec === pkg ? '.' : `./${spec.slice(pkg.length + 1)}`;
        const exp = ws.manifest.exports;
        const target = typeof exp === 'string' ? (sub === '.' ? exp : undefined) : exp?.[sub];
        if (target) queue.push(join(ws.dir, target));
        continue;
      }
      external.push({ pkg, from: file });
    }
  }
  return { files, external };
}

/** .dockerignore semantics: the last pattern matching the path or one of its parents decides. */
export function dockerIgnored(patterns: string[], path: string): boolean {
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    if (prefixes.some((p) => matchesGlob(p, pattern))) ignored = !negated;
  }
  return ignored;
}

const ignorePatterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

t.test('dockerIgnored follows Docker semantics', async (t) => {
  t.ok(dockerIgnored(['**/node_modules'], 'node_modules/x/index.js'));
  t.ok(dockerIgnored(['**/node_modules'], 'apps/a/node_modules/x.js'));
  t.ok(dockerIgnored(['**/test'], 'apps/a/test/b.test.ts'));
  t.notOk(dockerIgnored(['**/test'], 'apps/a/src/testing.ts'));
  t.notOk(dockerIgnored(['deploy', '!deploy/healthcheck.ts'], 'deploy/healthcheck.ts'));
  t.ok(dockerIgnored(['deploy/helm'], 'deploy/helm/reel/values.yaml'));
});

t.test('the services load only files that are in the build context', async (t) => {
  const { files } = moduleGraph();
  t.ok(files.size > 20, `${files.size} modules reached from ${ENTRY_POINTS.length} entry points`);
  for (const file of files) {
    const rel = relative(ROOT, file);
    t.ok(existsSync(file), `${rel} exists`);
    t.notOk(dockerIgnored(ignorePatterns, rel), `${rel} is in the image`);
  }
});

t.test('every package the services import is a production dependency', async (t) => {
  const { external } = moduleGraph();
  const problems = new Set<string>();
  for (const { pkg, from } of external) {
    const owner = ownerOf(from);
    const declared = { ...owner.manifest.dependencies, ...owner.manifest.optionalDependencies };
    if (!(pkg in declared)) problems.add(`${relative(ROOT, from)} imports ${pkg}, not in ${owner.manifest.name}'s dependencies`);
  }
  t.same([...problems], [], 'nothing comes from devDependencies (npm ci --omit=dev)');
});

t.test('runtime files are in the context, development files are not', async (t) => {
  const needed = ['package.json', 'package-lock.json', '.npmrc', 'deploy/healthcheck.ts'];
  for (const w of WS.values()) needed.push(relative(ROOT, join(w.dir, 'package.json')));
  const walk = (dir: string): string[] =>
    existsSync(dir) ? readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)])) : [];
  // migrations (the catalog runs them) and the gateway's web page
  for (const f of [...walk(join(ROOT, 'apps', 'catalog', 'drizzle')), ...walk(join(ROOT, 'apps', 'gateway', 'public'))]) needed.push(relative(ROOT, f));
  for (const rel of needed.filter((r) => r !== 'package.json' || existsSync(join(ROOT, r))))
    t.notOk(dockerIgnored(ignorePatterns, rel), `${rel} is in the context`);
  for (const rel of [
    'node_modules/tap/package.json',
    'apps/gateway/node_modules/x',
    '.git/HEAD',
    'apps/ingest/test/probe.test.ts',
    'deploy/helm/reel/values.yaml',
    'deploy/test/image.test.ts',
  ]) {
    t.ok(dockerIgnored(ignorePatterns, rel), `${rel} is left out`);
  }
});

t.test('Dockerfile', async (t) => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const code = text
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n');
  t.match(code, /ARG NODE_IMAGE=node:24-bookworm-slim/, 'Node 24 on Debian bookworm, slim');
  t.equal(code.match(/^FROM \$\{NODE_IMAGE\}/gm)?.length, 3, 'multi-stage, every stage on it');
  t.match(code, /npm ci --omit=dev/, 'production dependencies only');
  t.match(code, /apt-get install -y --no-install-recommends ffmpeg/, "Debian's ffmpeg");
  const user = /^USER (\S+)/m.exec(code)?.[1] ?? '';
  t.match(user, /^[1-9]\d*(:\d+)?$/, 'a numeric, non-root user (runAsNonRoot can check it)');
  t.notMatch(code, /node_modules\/\.bin\/node|node_modules\/node\//, 'Node comes from the base image, not the npm package');
  t.match(code, /CMD \["node", "--max-semi-space-size=4", "apps\/gateway\/src\/main\.ts"\]/, 'the command picks the app (the gateway, with its node flags)');
  t.notMatch(code, /RUN --mount|^# syntax=/m, 'builds with BuildKit and the classic builder alike');
});
