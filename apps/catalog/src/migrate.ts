// Runs the catalog's database migrations and exits: the Helm pre-install/pre-upgrade hook and
// `docker compose run --rm catalog node apps/catalog/src/migrate.ts`. The catalog also migrates
// at start; this lets a deployment do it once, before any replica starts.
import { migrate } from '@reel/postgres';
import { configSpec } from './config.ts';
import { openDb } from './db.ts';

process.exitCode = await migrate('catalog', configSpec, openDb, process.env);
