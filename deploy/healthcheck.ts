// Health check for the services that have no HTTP port (ingest, transcoder, packager, catalog),
// run inside their container: docker compose `healthcheck` and Kubernetes exec probes.
//
//   node deploy/healthcheck.ts --liveness         this container's app process holds an open TCP
//                                                 connection to NATS (reads /proc, no network)
//   node deploy/healthcheck.ts <service>          the above, and `reel.health.<service>` is answered
//                                                 over NATS, i.e. the service finished booting
//
// Options: --pid N checks that process instead of looking for `node …/src/main.ts` in /proc;
// --timeout MS bounds the NATS round trip (default 2000). Exit 0 = healthy, 1 = not.
//
// What it can and cannot tell: the liveness check is per process. The health query is
// answered by any replica of the service (its subscribers share a queue group), so with several
// replicas it says "this pod reaches NATS and the service answers", not "this pod finished
// booting". A per-replica signal needs the app to expose one (e.g. an instance id in the reply).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, natsSpec } from '../packages/runtime/src/config.ts';

const DEFAULT_PORTS: Record<string, number> = { 'nats:': 4222, 'tls:': 4222, 'ws:': 80, 'wss:': 443 };

/** The TCP ports of every server in NATS_URL (comma-separated, as connectNats splits it). */
export function natsPorts(natsUrl: string): Set<number> {
  const ports = new Set<number>();
  for (const part of natsUrl.split(',')) {
    const u = new URL(part.trim());
    ports.add(u.port ? Number(u.port) : (DEFAULT_PORTS[u.protocol] ?? 4222));
  }
  return ports;
}

export interface TcpSocket {
  readonly remotePort: number;
  readonly state: string;
  readonly inode: string;
}

/** Parses /proc/net/tcp or /proc/net/tcp6 (header line first). */
export function parseTcpTable(text: string): TcpSocket[] {
  const out: TcpSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const rem = f[2];
    if (!rem || f.length < 10) continue;
    const port = rem.slice(rem.lastIndexOf(':') + 1);
    out.push({ remotePort: Number.parseInt(port, 16), state: f[3] ?? '', inode: f[9] ?? '' });
  }
  return out;
}

/** The service's node process: the one running `…/src/main.ts` (PID 1 in our image). */
export function findAppPid(proc = '/proc'): number | undefined {
  const pids = readdirSync(proc)
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .sort((a, b) => a - b);
  for (const pid of pids) {
    if (pid === process.pid) continue;
    try {
      const args = readFileSync(`${proc}/${pid}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.endsWith('/src/main.ts'))) return pid;
    } catch {
      // the process ended meanwhile, or is not ours
    }
  }
  return undefined;
}

/** Socket inodes held open by `pid` (needs the same user as the process, as in a container). */
export function socketInodes(pid: number, proc = '/proc'): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`${proc}/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`${proc}/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

const ESTABLISHED = '01';

/** True when `pid` has an ESTABLISHED TCP connection to one of `ports`. */
export function hasConnection(pid: number, ports: Set<number>, proc = '/proc'): boolean {
  const mine = socketInodes(pid, proc);
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`${proc}/${pid}/net/${table}`, 'utf8');
    } catch {
      continue; // no IPv6 in this namespace
    }
    if (parseTcpTable(text).some((s) => s.state === ESTABLISHED && ports.has(s.remotePort) && mine.has(s.inode))) return true;
  }
  return false;
}

/** Asks `reel.health.<service>` over NATS; resolves to a reason when unhealthy, else undefined. */
async function askHealth(natsUrl: string, service: string, timeoutMs: number): Promise<string | undefined> {
  // the workspaces' own entry files (not package names): their dependencies resolve from them
  const { connectNats, createLogger } = await import('../packages/runtime/src/mod.ts');
  const { healthQuery, request } = await import('../packages/events/src/mod.ts');
  const nc = await connectNats(natsUrl, `healthcheck-${service}`, createLogger('healthcheck', 'silent'));
  try {
    const res = await request(nc, healthQuery(service), {}, { timeoutMs });
    return res.status === 'up' ? undefined : `${service} answered ${res.status}`;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await nc.close();
  }
}

/** NATS_URL for a probe's output (kept in container health logs and events): no user or password. */
export function withoutCredentials(natsUrl: string): string {
  return natsUrl
    .split(',')
    .map((part) => {
      const u = new URL(part.trim());
      u.username = '';
      u.password = '';
      return u.toString().replace(/\/$/, '');
    })
    .join(',');
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
}

export async function main(argv: string[], env: Record<string, string | undefined>): Promise<{ ok: boolean; message: string }> {
  const args = [...argv];
  const pidArg = option(args, '--pid');
  const timeoutMs = Number(option(args, '--timeout') ?? 2000);
  const liveness = args.includes('--liveness');
  const service = args.find((a) => !a.startsWith('--'));
  if (!liveness && !service) return { ok: false, message: 'usage: healthcheck.ts --liveness | <service>' };
  const { NATS_URL } = loadConfig(natsSpec, env);
  const pid = pidArg ? Number(pidArg) : findAppPid();
  if (!pid) return { ok: false, message: 'no app process (node …/src/main.ts) found' };
  let connected: boolean;
  try {
    connected = hasConnection(pid, natsPorts(NATS_URL));
  } catch (err) {
    return { ok: false, message: `cannot inspect process ${pid}: ${(err as Error).message}` };
  }
  if (!connected) return { ok: false, message: `process ${pid} has no connection to NATS (${withoutCredentials(NATS_URL)})` };
  if (liveness || !service) return { ok: true, message: `process ${pid} is connected to NATS` };
  const problem = await askHealth(NATS_URL, service, timeoutMs);
  return problem ? { ok: false, message: problem } : { ok: true, message: `${service} is up` };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2), process.env).then(
    ({ ok, message }) => {
      console.log(message);
      process.exit(ok ? 0 : 1);
    },
    (err) => {
      console.log(`health check failed: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
