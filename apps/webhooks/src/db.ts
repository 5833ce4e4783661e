import { fileURLToPath } from 'node:url';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.ts';

export type Db = PostgresJsDatabase<typeof schema>;

/**
 * Opens the pool and brings the `webhooks` schema up to date. The migrations journal lives in that
 * schema too, so sharing a database with the catalog shares no table with it.
 */
export async function openDb(url: string): Promise<{ db: Db; ping: () => Promise<unknown>; close: () => Promise<void> }> {
  const sql = postgres(url, { max: 5, connect_timeout: 10, backoff: (retries: number) => Math.min(0.1 * 2 ** retries, 2), onnotice: () => {} });
  const db = drizzle(sql, { schema });
  await migrate(db, { migrationsFolder: fileURLToPath(new URL('../drizzle', import.meta.url)), migrationsSchema: 'webhooks' });
  return { db, ping: () => sql`select 1`, close: () => sql.end({ timeout: 5 }) };
}
