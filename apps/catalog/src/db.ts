import { fileURLToPath } from 'node:url';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.ts';

export type Db = PostgresJsDatabase<typeof schema>;

/** Opens the pool and brings the schema up to date (migrations are idempotent). */
export async function openDb(url: string, opts: { migrate?: boolean } = {}): Promise<{ db: Db; ping: () => Promise<unknown>; close: () => Promise<void> }> {
  // A host that does not answer fails a statement in 10 s rather than postgres.js's 30; after an
  // outage, connecting again is tried at least every 2 s (postgres.js's own backoff grows to 20 s,
  // which would keep the catalog idle long after Postgres is back).
  const sql = postgres(url, { max: 5, connect_timeout: 10, backoff: (retries: number) => Math.min(0.1 * 2 ** retries, 2), onnotice: () => {} });
  const db = drizzle(sql, { schema });
  if (opts.migrate !== false) {
    await migrate(db, { migrationsFolder: fileURLToPath(new URL('../drizzle', import.meta.url)) });
  }
  return { db, ping: () => sql`select 1`, close: () => sql.end({ timeout: 5 }) };
}
