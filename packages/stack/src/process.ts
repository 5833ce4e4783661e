import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';

/** A child process the launcher owns: its output is prefixed and it is stopped on dispose. */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** `signal` (SIGTERM), then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number, signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions extends SpawnOptions {
  /** Receives each output line; defaults to dropping it. */
  log?: (line: string) => void;
}

const live = new Set<ManagedProcess>();
let hooked = false;

/**
 * Last resort when the owner exits without stopping what it started (an uncaught error, a test
 * killed by its runner): SIGKILL every process group still alive, synchronously.
 */
function killLeftovers(): void {
  for (const p of live) {
    try {
      if (p.child.pid) process.kill(-p.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * util-linux's setpriv, which starts a program with a parent-death signal: a process started here
 * gets SIGTERM when its owner dies however it dies. A SIGKILLed owner (a test killed by its
 * runner's timeout, `kill -9` of `npm start`) runs no exit hook, and its servers, apps and their
 * data directories were left behind. Without setpriv (not Linux), killLeftovers is all there is.
 */
const SETPRIV = process.platform === 'linux' && existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : undefined;

/**
 * Spawns `cmd` in its own process group so that stopping it also stops its children; it is sent
 * SIGTERM if this process dies first (setpriv, above).
 */
export function startProcess(name: string, cmd: string, args: string[], opts: StartOptions = {}): ManagedProcess {
  const { log, ...spawnOpts } = opts;
  // setpriv execs `cmd` in place: the same pid, and a missing `cmd` exits 127 as a failed spawn reports
  const [file, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'TERM', '--', cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...spawnOpts });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    const rl = createInterface({ input: stream });
    rl.on('line', (line) => log?.(line));
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.once('error', (err) => {
      log?.(`failed to start ${cmd}: ${err.message}`);
      resolve(127);
    });
  });
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  if (!hooked) {
    hooked = true;
    process.once('exit', killLeftovers);
  }
  const managed: ManagedProcess = {
    name,
    child,
    exited,
    async stop(graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(signal);
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // children of the group that outlived their parent
      signalGroup('SIGKILL');
    },
  };
  live.add(managed);
  exited.then(() => live.delete(managed));
  return managed;
}

/** Waits until something accepts TCP connections on host:port, or fails after `timeoutMs`. */
export async function waitForPort(port: number, opts: { host?: string; timeoutMs?: number; proc?: ManagedProcess } = {}): Promise<void> {
  const host = opts.host ?? '127.0.0.1';
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let exitCode: number | null | undefined;
  opts.proc?.exited.then((c) => {
    exitCode = c;
  });
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${opts.proc?.name} exited with code ${exitCode} before listening on ${host}:${port}`);
    if (await portOpen(port, host)) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${opts.proc?.name ?? 'a server'} on ${host}:${port}`);
}

/** Whether something accepts a TCP connection on host:port right now. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const sock = connect({ host, port }, () => {
      sock.end();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
