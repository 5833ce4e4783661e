// npm start: the whole platform on one machine, on loopback, with state under one data directory.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mintToken } from '@reel/token';
import { type AppName, prettyLine, ROOT, startApps, waitForHealthy } from '../apps.ts';
import { startInfra } from '../infra.ts';
import { supervise } from '../supervise.ts';

const COLORS: Record<string, string> = {
  catalog: '35',
  ingest: '36',
  transcoder: '33',
  packager: '34',
  gateway: '32',
  stack: '90',
  nats: '90',
  postgres: '90',
  s3: '90',
};
const tty = process.stdout.isTTY;
const print = (source: string, line: string) => {
  const tag = `[${source}]`.padEnd(13);
  process.stdout.write(`${tty ? `\x1b[${COLORS[source] ?? '0'}m${tag}\x1b[0m` : tag} ${prettyLine(line)}\n`);
};

function loadSecrets(dir: string): { AUTH_JWT_SECRET: string } {
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const secrets = { AUTH_JWT_SECRET: randomBytes(32).toString('base64url') };
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

async function main(): Promise<void> {
  const dataDir = resolve(process.env.REEL_DATA_DIR ?? join(ROOT, '.reel'));
  mkdirSync(dataDir, { recursive: true });
  print('stack', `data directory: ${dataDir}`);
  const natsNodes = Number(process.env.REEL_NATS_NODES ?? '1');
  if (!Number.isInteger(natsNodes) || natsNodes < 1 || natsNodes > 5) throw new Error(`REEL_NATS_NODES must be 1 to 5, not ${process.env.REEL_NATS_NODES}`);
  // REEL_NATS_NODES=3: a three-node JetStream cluster on loopback, the stream at 3 replicas
  const infra = await startInfra({ dir: dataDir, env: process.env, database: 'reel', natsNodes, log: (s, l) => (s === 'stack' ? print(s, l) : undefined) });
  print(
    'stack',
    `infrastructure: ${Object.entries(infra.env)
      .filter(([k]) => /URL|ENDPOINT/.test(k))
      .map(([k, v]) => `${k}=${v.replace(/\/\/[^@/]*@/, '//')}`)
      .join(' ')}`,
  );
  const secret = process.env.AUTH_JWT_SECRET ?? loadSecrets(dataDir).AUTH_JWT_SECRET;
  const port = process.env.PORT ?? '8080';
  const host = process.env.HOST ?? '127.0.0.1';
  const env = { ...process.env, ...infra.env, AUTH_JWT_SECRET: secret, PORT: port, HOST: host };
  const apps = await startApps({ env, log: (app: AppName, line) => print(app, line) });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    print('stack', 'stopping…');
    await apps.stop();
    await infra.stop();
    print('stack', 'stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => (stopping ? process.exit(130) : void stop(0)));
  process.on('SIGTERM', () => void stop(0));
  // npm does not pass SIGTERM on to us: if our parent goes away, so do we
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop(0);
  }, 1000).unref();
  // a service that exits while starting is misconfigured: stop at once, with its own error above
  let healthy = false;
  for (const [name, proc] of apps.procs) {
    proc.exited.then((code) => {
      if (!stopping && !healthy) {
        print('stack', `${name} exited with code ${code} while starting; stopping the platform`);
        void stop(1);
      }
    });
  }
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  await waitForHealthy(url, 90_000);
  healthy = true;
  // once up, a service that dies is started again (its work is redelivered to it); a crash loop stops the platform
  supervise(apps.handles.values(), {
    log: (line) => print('stack', line),
    stopping: () => stopping,
    onGiveUp: () => void stop(1),
  });
  const token = await mintToken(secret, 'dev', 30 * 24 * 3600);
  process.stdout.write(
    `\nReel is up: ${url}  (health: ${url}/v1/health)\nDevelopment token (user "dev", 30 days):\n  export REEL_URL=${url} REEL_TOKEN=${token}\nPress Ctrl-C to stop.\n\n`,
  );
}

main().catch((err) => {
  console.error(`npm start failed: ${(err as Error).message}`);
  process.exit(1);
});
