import { setTimeout as sleep } from 'node:timers/promises';
import type { Restartable } from './restartable.ts';

export interface SuperviseOptions {
  /** One line per restart or give-up. */
  log: (line: string) => void;
  /** True while the platform is being stopped: an exit is then expected. */
  stopping: () => boolean;
  /** A process that crashed more than `maxRestarts` times within `windowMs` is not started again. */
  onGiveUp: (name: string, code: number | null) => void;
  maxRestarts?: number;
  windowMs?: number;
  /** The wait before the n-th restart within the window (1 s, 2 s, 4 s … 15 s by default). */
  backoffMs?: (n: number) => number;
}

/**
 * Starts a process again when it exits on its own, as a deployment's restart policy would: one
 * crashed service does not take the whole local platform down, and its work items are redelivered
 * to it when it is back. A crash loop (more than `maxRestarts` exits within `windowMs`) is given up.
 */
export function supervise(processes: Iterable<Restartable>, opts: SuperviseOptions): void {
  const maxRestarts = opts.maxRestarts ?? 5;
  const windowMs = opts.windowMs ?? 60_000;
  const backoffMs = opts.backoffMs ?? ((n: number) => Math.min(15_000, 1000 * 2 ** (n - 1)));
  for (const p of processes) {
    const exits: number[] = [];
    const follow = () => {
      p.exited?.then(async (code) => {
        if (opts.stopping()) return;
        const now = Date.now();
        exits.push(now);
        while ((exits[0] ?? now) < now - windowMs) exits.shift();
        if (exits.length > maxRestarts) {
          opts.log(`${p.name} exited with code ${code} ${exits.length} times within ${windowMs / 1000} s; not starting it again`);
          opts.onGiveUp(p.name, code);
          return;
        }
        const wait = backoffMs(exits.length);
        opts.log(`${p.name} exited with code ${code}; starting it again in ${wait / 1000} s`);
        await sleep(wait);
        if (opts.stopping()) return;
        await p.start();
        follow();
      });
    };
    follow();
  }
}
