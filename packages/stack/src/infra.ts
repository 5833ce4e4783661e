import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { ensureFfmpegInstalled, resolveFfmpeg } from './ffmpeg.ts';
import { natsCluster, natsServer } from './nats-server.ts';
import { postgresServer } from './postgres.ts';
import type { Resource, Restartable } from './restartable.ts';
import { s3Server } from './s3-server.ts';

export interface InfraOptions {
  /** Where servers keep their state (JetStream store, Postgres cluster, S3 objects). */
  dir: string;
  /** Variables the user set: NATS_URL, DATABASE_URL, S3_ENDPOINT (+ keys) are used instead of starting a server. */
  env?: Record<string, string | undefined>;
  /** Database to create in a Postgres we start. */
  database?: string;
  /** Fixed ports for `npm start` (0 or absent = any free port). */
  ports?: { nats?: number; postgres?: number; s3?: number };
  /**
   * NATS nodes to start: 1 (default) is one nats-server; 3 is a JetStream cluster of three
   * processes on loopback, NATS_URL lists every node and the stream is kept at 3 replicas.
   */
  natsNodes?: number;
  log?: (source: string, line: string) => void;
}

export interface Infra {
  /** The variables that point the apps at this infrastructure. */
  readonly env: Readonly<Record<string, string>>;
  /** What was started here, by name (the rest came from the environment). */
  readonly started: readonly string[];
  /**
   * What was started here, each stoppable and restartable on the same ports and data: `nats` (or
   * `nats-1`…`nats-N` for a cluster), `postgres`, `s3`.
   */
  readonly parts: ReadonlyMap<string, Restartable>;
  stop(): Promise<void>;
}

/** A server to bring up, the processes it is made of, and the variables that point the apps at it. */
interface Wanted {
  server: Resource;
  parts: readonly Restartable[];
  env(): Promise<Record<string, string>>;
}

/**
 * Brings up on loopback whatever the platform needs and the environment does not already
 * provide, installing missing system packages (apt) on the way. Used by `npm start` and by the
 * integration tests, so both run against the same real servers.
 */
export async function startInfra(opts: InfraOptions): Promise<Infra> {
  const given = opts.env ?? {};
  const log = opts.log ?? (() => {});
  mkdirSync(opts.dir, { recursive: true });
  ensureFfmpegInstalled((line) => log('stack', line));
  const { ffmpeg, ffprobe } = resolveFfmpeg(given);
  const env: Record<string, string> = { FFMPEG_PATH: ffmpeg, FFPROBE_PATH: ffprobe };
  const wanted = serversToStart(opts, env, log);
  const parts = new Map(wanted.flatMap((w) => w.parts.map((p): [string, Restartable] => [p.name, p])));
  const downAll = () => Promise.allSettled(wanted.map((w) => w.server.down()));
  const results = await Promise.allSettled(
    wanted.map(async (w) => {
      await w.server.up();
      Object.assign(env, await w.env());
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await downAll();
    throw failed.reason;
  }
  return {
    env: Object.freeze(env),
    started: [...parts.keys()],
    parts,
    async stop() {
      await downAll();
    },
  };
}

/** NATS, Postgres and S3, each unless the environment names one (then its variables are passed on). */
function serversToStart(opts: InfraOptions, env: Record<string, string>, log: (source: string, line: string) => void): Wanted[] {
  const given = opts.env ?? {};
  const wanted: Wanted[] = [];
  const natsNodes = opts.natsNodes ?? 1;
  if (given.NATS_URL) env.NATS_URL = given.NATS_URL;
  else if (natsNodes > 1) {
    const cluster = natsCluster({ dir: join(opts.dir, 'nats-cluster'), size: natsNodes, log });
    const env = async () => ({ NATS_URL: cluster.url, NATS_STREAM_REPLICAS: String(Math.min(natsNodes, 5)) });
    wanted.push({ server: cluster, parts: cluster.nodes, env });
  } else {
    const nats = natsServer({ dir: join(opts.dir, 'nats'), port: opts.ports?.nats, log: (l) => log('nats', l) });
    wanted.push({ server: nats, parts: [nats], env: async () => ({ NATS_URL: nats.url }) });
  }
  if (given.DATABASE_URL) env.DATABASE_URL = given.DATABASE_URL;
  else {
    const pg = postgresServer({ dir: join(opts.dir, 'postgres'), port: opts.ports?.postgres, log: (l) => log('postgres', l) });
    wanted.push({ server: pg, parts: [pg], env: async () => ({ DATABASE_URL: await createDatabase(pg.adminUrl, opts.database ?? 'reel') }) });
  }
  if (given.S3_ENDPOINT) env.S3_ENDPOINT = given.S3_ENDPOINT;
  else {
    const s3 = s3Server({ dir: join(opts.dir, 's3'), port: opts.ports?.s3, log: (l) => log('s3', l) });
    const env = async () => ({ S3_ENDPOINT: s3.endpoint, S3_REGION: s3.region, S3_ACCESS_KEY: s3.accessKey, S3_SECRET_KEY: s3.secretKey });
    wanted.push({ server: s3, parts: [s3], env });
  }
  return wanted;
}

/** Creates `name` if it does not exist and returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    // the port opens before Postgres accepts sessions ("the database system is starting up")
    let rows: readonly unknown[] = [];
    for (let attempt = 0; ; attempt++) {
      try {
        rows = await sql`select 1 from pg_database where datname = ${name}`;
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== '57P03' || attempt > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (rows.length === 0) await sql.unsafe(`create database ${name}`);
  } finally {
    await sql.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}
