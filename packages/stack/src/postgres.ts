import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { aptInstall, hasCommand } from './apt.ts';
import { freePort } from './ports.ts';
import { type ManagedProcess, startProcess, waitForPort } from './process.ts';
import { processResource, type Restartable, withProps } from './restartable.ts';

/** A Postgres cluster; `adminUrl` and `port` are known once it has been up. */
export interface PostgresServer extends Restartable {
  /** URL of the server's `postgres` database; create others with createDatabase(). */
  readonly adminUrl: string;
  readonly port: number;
}

export interface PostgresOptions {
  /** Holds the cluster (`<dir>/data`); an existing one is reused. */
  dir: string;
  /** A free one at the first up() when omitted (then kept). */
  port?: number;
  log?: (line: string) => void;
}

function binDir(): string | undefined {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(base, versions[0], 'bin');
  }
  if (hasCommand('initdb') && hasCommand('pg_ctl')) return '';
  return undefined;
}

export function ensurePostgresInstalled(log?: (line: string) => void): void {
  if (binDir() === undefined) aptInstall(['postgresql'], log);
}

const asRoot = () => process.getuid?.() === 0;

/** Postgres refuses to run as root: when we are root, the server runs as the `postgres` user. */
function pgUser(): { uid: number; gid: number } | undefined {
  if (!asRoot()) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  if (spawnSync('id', ['postgres'], { stdio: 'ignore' }).status !== 0) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  }
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * A throwaway (or persistent, when `dir` is kept) Postgres cluster on 127.0.0.1 with trust
 * authentication for local connections and no Unix socket, as a Resource (down until up()).
 * Its graceful stop is SIGINT, Postgres' fast shutdown (SIGTERM would wait for every client to leave).
 */
export function postgresServer(opts: PostgresOptions): PostgresServer {
  let port = opts.port;
  const adminUrl = () => `postgres://postgres@127.0.0.1:${port}/postgres`;
  const server = processResource('postgres', {
    launch: async () => {
      ensurePostgresInstalled(opts.log);
      port ??= await freePort();
      return launchPostgres(opts, port);
    },
    health: () => answers(adminUrl()),
    stopSignal: 'SIGINT',
    killGroup: true,
  });
  return withProps(server, {
    get adminUrl() {
      if (port === undefined) throw new Error('Postgres has not been started');
      return adminUrl();
    },
    get port() {
      if (port === undefined) throw new Error('Postgres has not been started');
      return port;
    },
  });
}

/** Starts a Postgres cluster (see postgresServer). */
export async function startPostgres(opts: PostgresOptions): Promise<PostgresServer> {
  const server = postgresServer(opts);
  await server.up();
  return server;
}

/** Whether Postgres accepts a session and answers a query (it listens before it does). */
async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 2 });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function launchPostgres(opts: PostgresOptions, port: number): Promise<ManagedProcess> {
  const bins = binDir();
  if (bins === undefined) throw new Error('Postgres is not installed (initdb not found); set DATABASE_URL or install postgresql');
  const bin = (name: string) => (bins ? join(bins, name) : name);
  const user = pgUser();
  const runAs = user ? { uid: user.uid, gid: user.gid } : {};
  let dir = opts.dir;
  mkdirSync(dir, { recursive: true });
  if (user) {
    chownSync(dir, user.uid, user.gid);
    if (spawnSync('test', ['-w', dir], { ...runAs, stdio: 'ignore' }).status !== 0) {
      // e.g. a checkout under /root: the postgres user cannot get there, so its cluster lives
      // in a directory of its own, named after the requested one so that it persists
      dir = join('/var/tmp', `reel-postgres-${createHash('sha256').update(opts.dir).digest('hex').slice(0, 12)}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chownSync(dir, user.uid, user.gid);
      opts.log?.(`the postgres user cannot reach ${opts.dir}; its data is in ${dir}`);
    }
  }
  const data = join(dir, 'data');
  if (!existsSync(join(data, 'PG_VERSION'))) {
    const init = spawnSync(bin('initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'], { ...runAs, cwd: dir, encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`initdb failed: ${(init.stderr || init.error?.message || '').trim().slice(-500)}`);
    writeFileSync(join(data, 'postgresql.auto.conf'), 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n', { flag: 'a' });
  }
  const proc = startProcess(
    'postgres',
    bin('postgres'),
    ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    {
      ...runAs,
      cwd: dir,
      log: opts.log,
    },
  );
  await waitForPort(port, { proc, timeoutMs: 30_000 });
  return proc;
}
