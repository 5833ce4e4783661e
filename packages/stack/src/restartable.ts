import type { ManagedProcess } from './process.ts';

/**
 * One part of the platform (a server or an app process) that can be stopped, killed and started
 * again at will, with the same ports and data: what chaos runs and fault tests act on.
 */
export interface Restartable {
  readonly name: string;
  /** The process id while running, undefined while stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Resolves with the exit code when the current process exits (undefined while stopped). */
  readonly exited: Promise<number | null> | undefined;
  /** Graceful stop (the process' own shutdown signal, SIGKILL after a grace period). */
  stop(): Promise<void>;
  /**
   * `kill -9`, as a crash would: of the process alone when `group` is false (children it started
   * are left behind, which is what a fault test wants to see), of its whole group otherwise.
   */
  kill(opts?: { group?: boolean }): Promise<void>;
  /** Starts it again with the same configuration; resolves once it is ready. No-op while running. */
  start(): Promise<void>;
}

export interface RestartableOptions {
  /** Starts the process and resolves once it is ready to serve. */
  launch: () => Promise<ManagedProcess>;
  /** Signal and grace period of a graceful stop. */
  stopSignal?: NodeJS.Signals;
  graceMs?: number;
  /** Whether kill() takes the process group by default (servers: yes; apps: no, a crash leaves children). */
  killGroup?: boolean;
}

/** Wraps a process launcher into a Restartable; `first` is the already running process. */
export function restartable(name: string, first: ManagedProcess, opts: RestartableOptions): Restartable {
  let proc: ManagedProcess | undefined = first;
  let starting: Promise<void> | undefined;
  const alive = (p: ManagedProcess | undefined): p is ManagedProcess => p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
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
    async stop() {
      await starting?.catch(() => {});
      if (alive(proc)) await proc.stop(opts.graceMs ?? 10_000, opts.stopSignal ?? 'SIGTERM');
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
    start() {
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
    },
  };
}
