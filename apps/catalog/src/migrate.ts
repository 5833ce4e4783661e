// Runs the catalog's database migrations and exits: the Helm pre-install/pre-upgrade hook and
// `docker compose run --rm catalog node apps/catalog/src/migrate.ts`. The catalog also migrates
// at start; this lets a deployment do it once, before any replica starts.
import { loadConfig } from '@reel/runtime';
import { configSpec } from './config.ts';
import { openDb } from './db.ts';

try {
  const config = loadConfig(configSpec, process.env);
  const { close } = await openDb(config.DATABASE_URL);
  await close();
  console.log('catalog migrations are up to date');
} catch (err) {
  console.error(`catalog migrations failed: ${(err as Error).message}`);
  process.exitCode = 1;
}
