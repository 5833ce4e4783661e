import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ManagedProcess, startProcess } from './process.ts';

/** The repository root (this file is packages/stack/src/apps.ts). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const APPS = ['catalog', 'ingest', 'transcoder', 'packager', 'gateway'] as const;
export type AppName = (typeof APPS)[number];

export interface RunningApps {
  readonly procs: ReadonlyMap<AppName, ManagedProcess>;
  /** SIGTERM to every app at once; each drains and exits; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Runs the apps from source with this Node (24, type stripping), each a process of its own, as
 * a deployment would. Output lines go to `log(app, line)`.
 */
export function startApps(opts: {
  env: Record<string, string | undefined>;
  apps?: readonly AppName[];
  log?: (app: AppName, line: string) => void;
}): RunningApps {
  const procs = new Map<AppName, ManagedProcess>();
  for (const app of opts.apps ?? APPS) {
    const proc = startProcess(app, process.execPath, [join(ROOT, 'apps', app, 'src', 'main.ts')], {
      cwd: ROOT,
      env: { ...opts.env, NODE_NO_WARNINGS: '1' } as NodeJS.ProcessEnv,
      log: (line) => opts.log?.(app, line),
    });
    procs.set(app, proc);
  }
  return {
    procs,
    async stop(graceMs = 20_000) {
      await Promise.all([...procs.values()].map((p) => p.stop(graceMs)));
    },
  };
}

/** Polls GET /v1/health until every service is up, or throws with the last answer. */
export async function waitForHealthy(baseUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
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
