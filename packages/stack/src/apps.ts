import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ManagedProcess, startProcess } from './process.ts';
import { processResource, type Restartable } from './restartable.ts';

/** The repository root (this file is packages/stack/src/apps.ts). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const APPS = ['catalog', 'ingest', 'transcoder', 'packager', 'gateway', 'webhooks'] as const;
export type AppName = (typeof APPS)[number];

/**
 * Node flags of an app, as the Dockerfile, compose and the Helm chart pass them too. The gateway
 * keeps a small young generation (4 MiB semi-spaces): the 64 KiB socket buffers an upload passes
 * through are then freed by the frequent cheap scavenges, instead of piling up until V8's 64 MiB
 * external-memory limit forces a full collection. Measured (bench:api, upload-streaming test): a
 * gateway's first 96 MiB upload grew its RSS by 32–36 MiB instead of 68–79 with the default. 1 MiB
 * semi-spaces kept it to 13 MiB but cost reads a quarter of their rate (scavenges every few
 * requests: ~10,500 GET/s against ~13,300 with 4 MiB and ~14,000 with the default).
 */
export const NODE_FLAGS: Partial<Record<AppName, readonly string[]>> = { gateway: ['--max-semi-space-size=4'] };

export interface RunningApps {
  /** The current process of each app (its first replica), replaced when it is restarted. */
  readonly procs: ReadonlyMap<AppName, ManagedProcess>;
  /**
   * Every app process by name (`transcoder`, and `transcoder-2`… for replicas added later), each
   * stoppable, killable (kill -9 of the app alone by default: the ffmpeg it runs is not signalled,
   * as after a crash, so whether it outlives its worker is up to the app) and restartable with the
   * same environment.
   */
  readonly handles: ReadonlyMap<string, Restartable>;
  /** The handle of one app process; throws when there is none by that name. */
  app(name: string): Restartable;
  /** Starts one more replica of `app` (e.g. a second transcoder sharing its consumer); its process is spawned at once. */
  addReplica(app: AppName): Restartable;
  /** SIGTERM to every app at once; each drains and exits; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Runs the apps from source with this Node (24, type stripping), each a process of its own, as
 * a deployment would. Output lines go to `log(app, line)`. Each app process is a Resource whose
 * health is that its process runs: whether the services answer is the gateway's /v1/health
 * (waitForHealthy), as after a deployment.
 */
export async function startApps(opts: {
  env: Record<string, string | undefined>;
  apps?: readonly AppName[];
  log?: (app: AppName, line: string) => void;
}): Promise<RunningApps> {
  const procs = new Map<AppName, ManagedProcess>();
  const handles = new Map<string, Restartable>();
  let graceMs = 20_000;
  const spawnApp = async (app: AppName, name: string): Promise<ManagedProcess> => {
    const proc = startProcess(name, process.execPath, [...(NODE_FLAGS[app] ?? []), join(ROOT, 'apps', app, 'src', 'main.ts')], {
      cwd: ROOT,
      env: { ...opts.env, NODE_NO_WARNINGS: '1' } as NodeJS.ProcessEnv,
      log: (line) => opts.log?.(app, line),
    });
    if (name === app) procs.set(app, proc);
    return proc;
  };
  const add = (app: AppName, name: string): Restartable => {
    const handle = processResource(name, {
      // an app is ready when it is spawned: callers wait for /v1/health, as after a deployment
      launch: () => spawnApp(app, name),
      health: async () => true,
      killGroup: false,
      get graceMs() {
        return graceMs;
      },
    });
    handles.set(name, handle);
    return handle;
  };
  await Promise.all((opts.apps ?? APPS).map((app) => add(app, app).up()));
  return {
    procs,
    handles,
    app(name) {
      const h = handles.get(name);
      if (!h) throw new Error(`no app process named ${name}`);
      return h;
    },
    addReplica(app) {
      let n = 2;
      while (handles.has(`${app}-${n}`)) n++;
      const replica = add(app, `${app}-${n}`);
      replica.up().catch(() => {}); // spawning does not fail: a process that cannot start exits (127)
      return replica;
    },
    async stop(grace = 20_000) {
      graceMs = grace;
      await Promise.all([...handles.values()].map((h) => h.stop()));
    },
  };
}

/** Polls GET /v1/health until every service is up, or throws with the last answer (at once when `signal` aborts). */
export async function waitForHealthy(baseUrl: string, timeoutMs = 60_000, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline && !signal?.aborted) {
    try {
      const res = await fetch(`${baseUrl}/v1/health`);
      last = await res.text();
      if (res.ok && (JSON.parse(last) as { status?: string }).status === 'ok') return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the platform did not become healthy within ${timeoutMs} ms: ${last}`);
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'service']);

/** One readable line from a pino JSON line (anything else passes through). */
export function prettyLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const extra = Object.entries(o)
      .filter(([k]) => !SKIP.has(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const time = typeof o.time === 'string' ? o.time.slice(11, 19) : '';
    return `${time} ${(LEVELS[o.level as number] ?? '').padEnd(5)} ${o.msg ?? ''}${extra ? `  ${extra.slice(0, 600)}` : ''}`;
  } catch {
    return line;
  }
}
