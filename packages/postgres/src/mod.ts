/** @reel/postgres — what the services that keep a Postgres database (catalog, webhooks) share. */
import { env, loadConfig } from '@reel/runtime';

/** The service's database (the catalog and webhooks may share one: each keeps its own tables). */
export const postgresSpec = {
  DATABASE_URL: env.url({
    default: 'postgres://postgres@127.0.0.1:5432/reel',
    protocols: ['postgres', 'postgresql'],
    doc: 'Postgres connection URL',
    secret: true,
  }),
} as const;

/**
 * A service's migrate command (its `src/migrate.ts`: the Helm pre-install/pre-upgrade hook,
 * `docker compose run --rm <service> node apps/<service>/src/migrate.ts`). Reads the service's
 * whole config as its start would, opens the database (which migrates it) and closes it; says
 * what happened in one line and returns the exit code.
 */
export async function migrate(
  service: string,
  /** The service's whole config spec (postgresSpec spread in). */
  spec: typeof postgresSpec,
  openDb: (url: string) => Promise<{ close: () => Promise<void> }>,
  source: Record<string, string | undefined>,
): Promise<number> {
  try {
    const { DATABASE_URL } = loadConfig<typeof postgresSpec>(spec, source);
    const { close } = await openDb(DATABASE_URL);
    await close();
    console.log(`${service} migrations are up to date`);
    return 0;
  } catch (err) {
    console.error(`${service} migrations failed: ${(err as Error).message}`);
    return 1;
  }
}
