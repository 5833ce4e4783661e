// Runs the webhooks service's database migrations and exits (the Helm pre-install/pre-upgrade hook,
// `docker compose run --rm webhooks node apps/webhooks/src/migrate.ts`). The service also migrates at start.
import { loadConfig } from '@reel/runtime';
import { configSpec } from './config.ts';
import { openDb } from './db.ts';

try {
  const config = loadConfig(configSpec, process.env);
  const { close } = await openDb(config.DATABASE_URL);
  await close();
  console.log('webhooks migrations are up to date');
} catch (err) {
  console.error(`webhooks migrations failed: ${(err as Error).message}`);
  process.exitCode = 1;
}
