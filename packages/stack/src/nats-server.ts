import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, hasCommand } from './apt.ts';
import { freePort } from './ports.ts';
import { startProcess, waitForPort } from './process.ts';

export interface NatsServerHandle {
  readonly url: string;
  stop(): Promise<void>;
}

function natsBinary(): string {
  return process.env.NATS_SERVER_BIN ?? (hasCommand('nats-server') ? 'nats-server' : '/usr/sbin/nats-server');
}

export function ensureNatsInstalled(log?: (line: string) => void): void {
  if (!hasCommand(natsBinary())) aptInstall(['nats-server'], log);
}

/** Starts `nats-server -js` on 127.0.0.1 with its JetStream store under `dir`. */
export async function startNatsServer(opts: { dir: string; port?: number; log?: (line: string) => void }): Promise<NatsServerHandle> {
  const port = opts.port ?? (await freePort());
  const store = join(opts.dir, 'jetstream');
  mkdirSync(store, { recursive: true });
  const proc = startProcess('nats-server', natsBinary(), ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store, '-n', `reel-${port}`], {
    log: opts.log,
  });
  await waitForPort(port, { proc, timeoutMs: 15_000 });
  return { url: `nats://127.0.0.1:${port}`, stop: () => proc.stop() };
}
