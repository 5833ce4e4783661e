import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { aptInstall, hasCommand } from './apt.ts';
import { freePort } from './ports.ts';
import { startProcess, waitForPort } from './process.ts';
import { processResource, type Resource, type Restartable, withProps } from './restartable.ts';

/** How many sets of free ports a cluster's first start tries when another process takes one first. */
const BIND_ATTEMPTS = 3;

function natsBinary(): string {
  return process.env.NATS_SERVER_BIN ?? (hasCommand('nats-server') ? 'nats-server' : '/usr/sbin/nats-server');
}

export function ensureNatsInstalled(log?: (line: string) => void): void {
  if (!hasCommand(natsBinary())) aptInstall(['nats-server'], log);
}

/** One nats-server; `url` is known once it has been up. */
export interface NatsServer extends Restartable {
  readonly url: string;
}

export interface NatsServerOptions {
  /** Its JetStream store is `<dir>/jetstream`. */
  dir: string;
  /** Client port; a free one at the first up() when omitted (then kept). */
  port?: number;
  /** Resource name (`nats`). */
  name?: string;
  log?: (line: string) => void;
}

/** `nats-server -js` on 127.0.0.1 with its JetStream store under `dir`, as a Resource (down until up()). */
export function natsServer(opts: NatsServerOptions): NatsServer {
  let port = opts.port;
  const store = join(opts.dir, 'jetstream');
  const server = processResource(opts.name ?? 'nats', {
    launch: async () => {
      ensureNatsInstalled(opts.log);
      port ??= await freePort();
      mkdirSync(store, { recursive: true });
      const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store, '-n', `reel-${port}`];
      const proc = startProcess('nats-server', natsBinary(), args, { log: opts.log });
      await waitForPort(port, { proc, timeoutMs: 15_000 });
      return proc;
    },
    health: () => natsAnswers(port ?? 0),
    killGroup: true,
  });
  return withProps(server, {
    get url() {
      if (port === undefined) throw new Error('the NATS server has not been started');
      return `nats://127.0.0.1:${port}`;
    },
  });
}

/** Starts `nats-server -js` on 127.0.0.1 with its JetStream store under `dir`. */
export async function startNatsServer(opts: NatsServerOptions): Promise<NatsServer> {
  const server = natsServer(opts);
  await server.up();
  return server;
}

/** Whether a NATS server answers on `port`: it greets every client with an INFO line. */
function natsAnswers(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('data', (chunk) => done(chunk.toString('latin1').startsWith('INFO ')));
    sock.once('error', () => done(false));
  });
}

/** One node of a NATS cluster (`nats-1`…). */
export interface NatsNode extends Restartable {
  readonly url: string;
  readonly serverName: string;
}

/** A JetStream cluster on loopback: up when every node is and JetStream has a metadata leader. */
export interface NatsCluster extends Resource {
  /** Every node's client URL, comma-separated: what NATS_URL takes for a cluster. */
  readonly url: string;
  /** One per node, each stoppable, killable and restartable on its ports and store. */
  readonly nodes: readonly NatsNode[];
}

interface NodePorts {
  client: number;
  cluster: number;
  monitor: number;
}

/**
 * `size` nats-server processes on loopback as one JetStream cluster: each node has its own store,
 * config file and server name, and routes to all of them. Ports are chosen at the first up().
 */
export function natsCluster(opts: { dir: string; size?: number; log?: (node: string, line: string) => void }): NatsCluster {
  const size = opts.size ?? 3;
  if (!Number.isInteger(size) || size < 1 || size > 7) throw new RangeError(`a NATS cluster has 1 to 7 nodes, not ${size}`);
  let layout: Promise<NodePorts[]> | undefined;
  let chosen: NodePorts[] | undefined;
  // a port taken by another process between our choice and a node's bind, at the first up()
  let clashed = false;
  let listened = false;
  const portsOf = () =>
    (layout ??= distinctPorts(size * 3).then((ports) => {
      chosen = Array.from({ length: size }, (_, i) => ({
        client: ports[i * 3] as number,
        cluster: ports[i * 3 + 1] as number,
        monitor: ports[i * 3 + 2] as number,
      }));
      writeConfigs(opts.dir, chosen);
      return chosen;
    }));
  const nodes = Array.from({ length: size }, (_, i): NatsNode => {
    const name = `nats-${i + 1}`;
    const mine = () => chosen?.[i];
    const node = processResource(name, {
      launch: async () => {
        ensureNatsInstalled((l) => opts.log?.(name, l));
        const p = (await portsOf())[i] as NodePorts;
        const log = (l: string) => {
          if (/address already in use/i.test(l)) clashed = true;
          opts.log?.(name, l);
        };
        const proc = startProcess(name, natsBinary(), ['-c', configFile(opts.dir, i)], { log });
        await waitForPort(p.client, { proc, timeoutMs: 15_000 });
        return proc;
      },
      health: () => natsAnswers(mine()?.client ?? 0),
      killGroup: true,
    });
    return withProps(node, {
      get url() {
        const p = mine();
        if (!p) throw new Error(`${name} has not been started`);
        return `nats://127.0.0.1:${p.client}`;
      },
      serverName: `reel-n${i + 1}`,
    });
  });
  const monitors = () => (chosen ?? []).map((p) => p.monitor);
  return {
    name: 'nats',
    nodes,
    get url() {
      return nodes.map((n) => n.url).join(',');
    },
    async up() {
      for (let attempt = 1; ; attempt++) {
        try {
          await Promise.all(nodes.map((n) => n.up()));
          await waitForMetaLeader(monitors());
          listened = true;
          return;
        } catch (err) {
          await Promise.allSettled(nodes.map((n) => n.down()));
          // a port chosen free, taken by another process (a test's server, an outgoing connection)
          // before a node bound it: choose them all again, but only before the cluster was ever up
          if (!clashed || listened || attempt >= BIND_ATTEMPTS) throw err;
          opts.log?.('nats', 'a port was taken meanwhile; retrying the cluster with other ports');
          clashed = false;
          layout = undefined;
          chosen = undefined;
        }
      }
    },
    async down() {
      await Promise.allSettled(nodes.map((n) => n.down()));
    },
    async health() {
      return (await metaLeader(monitors())).leader !== undefined;
    },
  };
}

/** Starts a NATS cluster (see natsCluster) and resolves once JetStream has a metadata leader. */
export async function startNatsCluster(opts: { dir: string; size?: number; log?: (node: string, line: string) => void }): Promise<NatsCluster> {
  const cluster = natsCluster(opts);
  await cluster.up();
  return cluster;
}

const configFile = (dir: string, i: number) => join(dir, `n${i + 1}`, 'nats-server.conf');

function writeConfigs(dir: string, nodePorts: NodePorts[]): void {
  const routes = nodePorts.map((p) => `nats-route://127.0.0.1:${p.cluster}`);
  for (const [i, p] of nodePorts.entries()) {
    const store = join(dir, `n${i + 1}`, 'jetstream');
    mkdirSync(store, { recursive: true });
    writeFileSync(
      configFile(dir, i),
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
  }
}

/** The JetStream metadata leader one of the nodes' monitoring endpoints (/jsz) reports, or what they said instead. */
async function metaLeader(monitorPorts: number[], everyNode = false): Promise<{ leader?: string; last: string }> {
  let last = 'no answer';
  for (const port of monitorPorts) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/jsz`, { signal: AbortSignal.timeout(2000) });
      const jsz = (await res.json()) as { meta_cluster?: { leader?: string; cluster_size?: number; replicas?: { current?: boolean }[] } };
      const meta = jsz.meta_cluster;
      // the leader lists its followers: with `everyNode`, ready once every other node is a current one
      const followers = meta?.replicas ?? [];
      if (meta?.leader && (!everyNode || meta.cluster_size === 1 || (followers.length === (meta.cluster_size ?? 0) - 1 && followers.every((r) => r.current))))
        return { leader: meta.leader, last };
      last = JSON.stringify(jsz.meta_cluster ?? {});
    } catch (err) {
      last = (err as Error).message;
    }
  }
  return { last };
}

/** Polls the nodes' monitoring endpoints until the JetStream metadata leader reports every other node current. */
async function waitForMetaLeader(monitorPorts: number[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const found = await metaLeader(monitorPorts, true);
    if (found.leader) return;
    last = found.last;
    await sleep(100);
  }
  throw new Error(`the NATS cluster elected no JetStream leader within ${timeoutMs} ms (${last})`);
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}
