import { fileURLToPath } from 'node:url';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.ts';

export type Db = PostgresJsDatabase<typeof schema>;

/** The advisory lock key held while the webhooks schema is migrated (any constant unique to this service). */
const MIGRATION_LOCK = 7_211_042_001;

/**
 * Opens the pool and brings the `webhooks` schema up to date. The migrations journal lives in that
 * schema too, so sharing a database with the catalog shares no table with it.
 */
export async function openDb(url: string): Promise<{ db: Db; ping: () => Promise<unknown>; close: () => Promise<void> }> {
  const sql = postgres(url, { max: 5, connect_timeout: 10, backoff: (retries: number) => Math.min(0.1 * 2 ** retries, 2), onnotice: () => {} });
  const db = drizzle(sql, { schema });
  // replicas starting together take turns: drizzle's migrator does not lock, and two running the
  // same CREATE TABLE at once would fail one of them
  const lock = await sql.reserve();
  try {
    await lock`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(db, { migrationsFolder: fileURLToPath(new URL('../drizzle', import.meta.url)), migrationsSchema: 'webhooks' });
  } finally {
    await lock`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
    lock.release();
  }
  return { db, ping: () => sql`select 1`, close: () => sql.end({ timeout: 5 }) };
}
