import type { ManagedProcess } from './process.ts';

/**
 * One server the launcher runs (nats-server, Postgres, the S3 server, an app process): the same
 * three verbs for each, so `npm start`, the tests and the chaos suite treat them alike.
 */
export interface Resource {
  readonly name: string;
  /** Starts it and resolves once it serves; a no-op while up. After down() it comes back on the same ports and data. */
  up(): Promise<void>;
  /** Graceful stop (its own shutdown signal, SIGKILL after a grace period); a no-op while down. */
  down(): Promise<void>;
  /** Whether it answers right now (a server: a request of its own protocol; an app process: that it runs). */
  health(): Promise<boolean>;
}

/**
 * A Resource that is one process, which fault tests and chaos runs also crash (`kill`) and
 * start again, with the same ports and data.
 */
export interface Restartable extends Resource {
  /** The process id while running, undefined while stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Resolves with the exit code when the current process exits (undefined before the first up()). */
  readonly exited: Promise<number | null> | undefined;
  /**
   * `kill -9`, as a crash would: of the process alone when `group` is false (children it started
   * are left behind, which is what a fault test wants to see), of its whole group otherwise.
   */
  kill(opts?: { group?: boolean }): Promise<void>;
  /** up(), under the name the fault tests and chaos scenarios use. */
  start(): Promise<void>;
  /** down(), under the name the fault tests and chaos scenarios use. */
  stop(): Promise<void>;
}

export interface ProcessResourceOptions {
  /** Starts the process and resolves once it is ready to serve. */
  launch: () => Promise<ManagedProcess>;
  /** One check that it answers (see Resource.health); called only while the process runs. */
  health: () => Promise<boolean>;
  /** Signal and grace period of a graceful stop (read at each stop). */
  stopSignal?: NodeJS.Signals;
  graceMs?: number;
  /** Whether kill() takes the process group by default (servers: yes; apps: no, a crash leaves children). */
  killGroup?: boolean;
}

/** A Restartable around a process launcher; it starts down (call up()). */
export function processResource(name: string, opts: ProcessResourceOptions): Restartable {
  let proc: ManagedProcess | undefined;
  let starting: Promise<void> | undefined;
  const alive = (p: ManagedProcess | undefined): p is ManagedProcess => p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  const up = (): Promise<void> => {
    if (alive(proc)) return Promise.resolve();
    starting ??= opts.launch().then(
      (p) => {
        proc = p;
        starting = undefined;
      },
      (err) => {
        starting = undefined;
        throw err;
      },
    );
    return starting;
  };
  const down = async (): Promise<void> => {
    await starting?.catch(() => {});
    if (alive(proc)) await proc.stop(opts.graceMs ?? 10_000, opts.stopSignal ?? 'SIGTERM');
  };
  return {
    name,
    get pid() {
      return alive(proc) ? proc.child.pid : undefined;
    },
    get running() {
      return alive(proc);
    },
    get exited() {
      return proc?.exited;
    },
    up,
    down,
    start: up,
    stop: down,
    async health() {
      return alive(proc) && (await opts.health().catch(() => false));
    },
    async kill(k = {}) {
      await starting?.catch(() => {});
      if (!alive(proc) || !proc.child.pid) return;
      const pid = proc.child.pid;
      try {
        process.kill((k.group ?? opts.killGroup ?? true) ? -pid : pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await proc.exited;
    },
  };
}

/** `resource` with `props` added, getters kept as getters (a spread would freeze them). */
export function withProps<R extends object, P extends object>(resource: R, props: P): R & P {
  return Object.defineProperties(resource, Object.getOwnPropertyDescriptors(props)) as R & P;
}
