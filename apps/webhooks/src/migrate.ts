// Runs the webhooks service's database migrations and exits (the Helm pre-install/pre-upgrade hook,
// `docker compose run --rm webhooks node apps/webhooks/src/migrate.ts`). The service also migrates at start.
import { migrate } from '@reel/postgres';
import { configSpec } from './config.ts';
import { openDb } from './db.ts';

process.exitCode = await migrate('webhooks', configSpec, openDb, process.env);
