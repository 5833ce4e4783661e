import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { aptInstall, hasCommand } from './apt.ts';
import { freePort } from './ports.ts';
import { type ManagedProcess, startProcess, waitForPort } from './process.ts';
import { type Restartable, restartable } from './restartable.ts';

export interface NatsServerHandle {
  readonly url: string;
  readonly proc: ManagedProcess;
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
  return { url: `nats://127.0.0.1:${port}`, proc, stop: () => proc.stop() };
}

export interface NatsClusterHandle {
  /** Every node's client URL, comma-separated: what NATS_URL takes for a cluster. */
  readonly url: string;
  /** One per node (`nats-1`…), each stoppable, killable and restartable on its ports and store. */
  readonly nodes: readonly (Restartable & { readonly url: string; readonly serverName: string })[];
  stop(): Promise<void>;
}

interface NodePorts {
  client: number;
  cluster: number;
  monitor: number;
}

/**
 * Starts `size` nats-server processes on loopback as one JetStream cluster: each node has its own
 * store, config file and server name, and routes to all of them. Resolves once JetStream has a
 * metadata leader (the cluster can create streams).
 */
export async function startNatsCluster(opts: { dir: string; size?: number; log?: (node: string, line: string) => void }): Promise<NatsClusterHandle> {
  const size = opts.size ?? 3;
  if (!Number.isInteger(size) || size < 1 || size > 7) throw new RangeError(`a NATS cluster has 1 to 7 nodes, not ${size}`);
  const ports = await distinctPorts(size * 3);
  const nodePorts: NodePorts[] = Array.from({ length: size }, (_, i) => ({
    client: ports[i * 3] as number,
    cluster: ports[i * 3 + 1] as number,
    monitor: ports[i * 3 + 2] as number,
  }));
  const routes = nodePorts.map((p) => `nats-route://127.0.0.1:${p.cluster}`);
  const launchers = nodePorts.map((p, i) => {
    const name = `nats-${i + 1}`;
    const dir = join(opts.dir, `n${i + 1}`);
    const store = join(dir, 'jetstream');
    mkdirSync(store, { recursive: true });
    const config = join(dir, 'nats-server.conf');
    writeFileSync(
      config,
      `server_name: reel-n${i + 1}
listen: 127.0.0.1:${p.client}
http: 127.0.0.1:${p.monitor}
jetstream {
  store_dir: ${JSON.stringify(store)}
}
cluster {
  name: reel
  listen: 127.0.0.1:${p.cluster}
  routes: [
    ${routes.join('\n    ')}
  ]
}
`,
    );
    const launch = async () => {
      const proc = startProcess(name, natsBinary(), ['-c', config], { log: (l) => opts.log?.(name, l) });
      await waitForPort(p.client, { proc, timeoutMs: 15_000 });
      return proc;
    };
    return { name, launch, p };
  });
  const started: ManagedProcess[] = [];
  try {
    for (const proc of await Promise.all(launchers.map((l) => l.launch()))) started.push(proc);
    await waitForMetaLeader(nodePorts.map((p) => p.monitor));
  } catch (err) {
    await Promise.allSettled(started.map((p) => p.stop()));
    throw err;
  }
  const nodes = launchers.map((l, i) =>
    Object.assign(restartable(l.name, started[i] as ManagedProcess, { launch: l.launch, killGroup: true }), {
      url: `nats://127.0.0.1:${l.p.client}`,
      serverName: `reel-n${i + 1}`,
    }),
  );
  return {
    url: nodes.map((n) => n.url).join(','),
    nodes,
    async stop() {
      await Promise.allSettled(nodes.map((n) => n.stop()));
    },
  };
}

/** Polls the nodes' monitoring endpoint (/jsz) until one reports a JetStream metadata leader. */
async function waitForMetaLeader(monitorPorts: number[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    for (const port of monitorPorts) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/jsz`);
        const jsz = (await res.json()) as { meta_cluster?: { leader?: string } };
        if (jsz.meta_cluster?.leader) return;
        last = JSON.stringify(jsz.meta_cluster ?? {});
      } catch (err) {
        last = (err as Error).message;
      }
    }
    await sleep(100);
  }
  throw new Error(`the NATS cluster elected no JetStream leader within ${timeoutMs} ms (${last})`);
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}
