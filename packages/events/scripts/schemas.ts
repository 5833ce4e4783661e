/**
 * Writes the JSON Schema of every event into packages/events/schemas/ from the registry
 * (`npm run -w packages/events schemas`). With `--check`, writes nothing and exits 1 when the
 * committed files differ from the registry (test/asyncapi.test.ts does the same in CI).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventJsonSchemaFiles } from '../src/asyncapi.ts';

export const SCHEMAS_DIR = fileURLToPath(new URL('../schemas/', import.meta.url));

/** Files that are missing, different, or no longer in the registry. */
export function schemaDrift(dir = SCHEMAS_DIR): string[] {
  const want = eventJsonSchemaFiles();
  const have = new Set(
    readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.json'))
      .map((e) => e.name),
  );
  const drift: string[] = [];
  for (const [name, text] of want) {
    if (!have.has(name)) drift.push(`${name}: missing`);
    else if (readFileSync(join(dir, name), 'utf8') !== text) drift.push(`${name}: differs from the registry`);
  }
  for (const name of have) if (!want.has(name)) drift.push(`${name}: not in the registry`);
  return drift.sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(SCHEMAS_DIR, { recursive: true });
  if (process.argv.includes('--check')) {
    const drift = schemaDrift();
    for (const d of drift) console.error(d);
    if (drift.length) console.error('run: npm run -w packages/events schemas');
    process.exit(drift.length ? 1 : 0);
  }
  const want = eventJsonSchemaFiles();
  for (const name of readdirSync(SCHEMAS_DIR)) if (name.endsWith('.json') && !want.has(name)) rmSync(join(SCHEMAS_DIR, name));
  for (const [name, text] of want) writeFileSync(join(SCHEMAS_DIR, name), text);
  console.log(`${want.size} schemas written to ${SCHEMAS_DIR}`);
}
