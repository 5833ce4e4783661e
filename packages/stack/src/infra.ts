import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { ensureFfmpegInstalled, resolveFfmpeg } from './ffmpeg.ts';
import { ensureNatsInstalled, startNatsCluster, startNatsServer } from './nats-server.ts';
import { ensurePostgresInstalled, startPostgres } from './postgres.ts';
import { type Restartable, restartable } from './restartable.ts';
import { ensureS3ServerInstalled, startS3Server } from './s3-server.ts';

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

/**
 * Brings up on loopback whatever the platform needs and the environment does not already
 * provide, installing missing system packages (apt) on the way. Used by `npm start` and by the
 * integration tests, so both run against the same real servers.
 */
export async function startInfra(opts: InfraOptions): Promise<Infra> {
  const given = opts.env ?? {};
  const log = opts.log ?? (() => {});
  const say = (line: string) => log('stack', line);
  const parts = new Map<string, Restartable>();
  const add = (part: Restartable) => parts.set(part.name, part);
  const stopAll = () => Promise.allSettled([...parts.values()].map((p) => p.stop()));
  const env: Record<string, string> = {};
  mkdirSync(opts.dir, { recursive: true });
  try {
    ensureFfmpegInstalled(say);
    const { ffmpeg, ffprobe } = resolveFfmpeg(given);
    env.FFMPEG_PATH = ffmpeg;
    env.FFPROBE_PATH = ffprobe;

    const tasks: Promise<void>[] = [];
    const natsNodes = opts.natsNodes ?? 1;
    if (given.NATS_URL) env.NATS_URL = given.NATS_URL;
    else if (natsNodes > 1) {
      ensureNatsInstalled(say);
      tasks.push(
        startNatsCluster({ dir: join(opts.dir, 'nats-cluster'), size: natsNodes, log }).then((c) => {
          for (const node of c.nodes) add(node);
          env.NATS_URL = c.url;
          env.NATS_STREAM_REPLICAS = String(Math.min(natsNodes, 5));
        }),
      );
    } else {
      ensureNatsInstalled(say);
      let natsPort = opts.ports?.nats;
      const start = () => startNatsServer({ dir: join(opts.dir, 'nats'), port: natsPort, log: (l) => log('nats', l) });
      tasks.push(
        start().then((h) => {
          natsPort = Number(new URL(h.url).port);
          add(restartable('nats', h.proc, { launch: async () => (await start()).proc, killGroup: true }));
          env.NATS_URL = h.url;
        }),
      );
    }
    if (given.DATABASE_URL) env.DATABASE_URL = given.DATABASE_URL;
    else {
      ensurePostgresInstalled(say);
      let pgPort = opts.ports?.postgres;
      const start = () => startPostgres({ dir: join(opts.dir, 'postgres'), port: pgPort, log: (l) => log('postgres', l) });
      tasks.push(
        start().then(async (h) => {
          pgPort = h.port;
          add(restartable('postgres', h.proc, { launch: async () => (await start()).proc, stopSignal: 'SIGINT', killGroup: true }));
          env.DATABASE_URL = await createDatabase(h.adminUrl, opts.database ?? 'reel');
        }),
      );
    }
    if (given.S3_ENDPOINT) {
      env.S3_ENDPOINT = given.S3_ENDPOINT;
    } else {
      ensureS3ServerInstalled(say);
      let s3Port = opts.ports?.s3;
      const start = () => startS3Server({ dir: join(opts.dir, 's3'), port: s3Port, log: (l) => log('s3', l) });
      tasks.push(
        start().then((h) => {
          s3Port = Number(new URL(h.endpoint).port);
          add(restartable('s3', h.proc, { launch: async () => (await start()).proc, graceMs: 5000, killGroup: true }));
          Object.assign(env, { S3_ENDPOINT: h.endpoint, S3_REGION: h.region, S3_ACCESS_KEY: h.accessKey, S3_SECRET_KEY: h.secretKey });
        }),
      );
    }
    const results = await Promise.allSettled(tasks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    env: Object.freeze(env),
    started: [...parts.keys()],
    parts,
    async stop() {
      await stopAll();
    },
  };
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
