import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownedDirPrefix, sweepOwnedDirs } from '@reel/runtime';
import { mintToken } from '@reel/token';
import { type AppName, prettyLine, type RunningApps, startApps, waitForHealthy } from './apps.ts';
import { freePort } from './ports.ts';
import { type Infra, startInfra } from './infra.ts';

/** tap's `t.teardown`, or anything that runs a function when the test ends. */
export type Teardown = (fn: () => Promise<void> | void) => void;

/** When REEL_TEST_LOGS is set, server and app output is shown (prefixed) on stderr. */
const verbose = Boolean(process.env.REEL_TEST_LOGS);
const show = (source: string, line: string) => {
  if (verbose) process.stderr.write(`[${source}] ${prettyLine(line)}\n`);
};

let exitOnSigterm = false;
/**
 * A test killed by its runner still stops what it started (see process.ts): registered by the
 * functions that start servers, once, so importing this module changes nothing.
 */
function exitWithTheTest(): void {
  if (exitOnSigterm) return;
  exitOnSigterm = true;
  process.once('SIGTERM', () => process.exit(143));
}

/**
 * Starts a NATS server (temp JetStream store), a Postgres cluster with its own database and an
 * S3 server for one test file, on free loopback ports; all of it is stopped and deleted on
 * teardown. The machine's own NATS or Postgres are never used.
 */
export async function startTestInfra(teardown: Teardown): Promise<Infra & { dir: string }> {
  const infra = await tempInfra();
  teardown(infra.stop);
  return infra;
}

/**
 * Test directories are owned by their test process (`reel-test-<pid>-<start>-…`, see @reel/runtime):
 * a test killed outright (SIGKILL) runs no teardown, and its servers stop with it (process.ts) but
 * its directory, Postgres cluster included, stayed; the next test run removes it.
 */
const TEST_DIR_PREFIX = 'reel-test-';

/** Removes the test directories under `root` whose owner process is gone; returns them. */
export async function sweepStaleTestDirs(root: string = tmpdir()): Promise<string[]> {
  return (await sweepOwnedDirs(root, [TEST_DIR_PREFIX])).removed;
}

async function tempInfra(opts: { natsNodes?: number; log?: (source: string, line: string) => void } = {}): Promise<Infra & { dir: string }> {
  exitWithTheTest();
  await sweepStaleTestDirs();
  const dir = mkdtempSync(join(tmpdir(), ownedDirPrefix(TEST_DIR_PREFIX)));
  // Postgres runs as the postgres user when we are root: it must be able to enter the directory
  chmodSync(dir, 0o755);
  const infra = await startInfra({ dir, env: {}, database: 'reel_test', natsNodes: opts.natsNodes, log: opts.log ?? show });
  return {
    dir,
    env: infra.env,
    started: infra.started,
    parts: infra.parts,
    async stop() {
      await infra.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';

export interface TestPlatform {
  url: string;
  env: Readonly<Record<string, string>>;
  /** A bearer token for `sub`. */
  token(sub: string): Promise<string>;
  infra: Infra & { dir: string };
  /** The five apps, each stoppable, killable and restartable (see RunningApps). */
  apps: RunningApps;
}

export interface TestPlatformOptions {
  /** Extra variables for every app (they win over the infrastructure's). */
  env?: Record<string, string>;
  /** Which apps to run (all five by default). */
  apps?: AppName[];
  /** NATS nodes: 3 runs a three-node JetStream cluster with the stream at 3 replicas. */
  natsCluster?: number;
  /** Receives every server and app output line (default: stderr when REEL_TEST_LOGS is set). */
  log?: (source: string, line: string) => void;
}

/**
 * The whole platform for an integration test: test infrastructure plus the five apps as real
 * processes, exactly as `npm start` runs them. Resolves once /v1/health says every service is up.
 */
export async function startTestPlatform(teardown: Teardown, opts: TestPlatformOptions = {}): Promise<TestPlatform> {
  const infra = await tempInfra({ natsNodes: opts.natsCluster, log: opts.log });
  const port = await freePort();
  const env = {
    ...infra.env,
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: verbose ? 'info' : 'warn',
    OTEL_SDK_DISABLED: 'true',
    // tests run several platforms on one machine: at 19, one platform's later chunks would wait
    // out every other platform's first chunks (a 4 s chunk took minutes beside kill-worker's encodes)
    TRANSCODE_LATER_NICENESS: '10',
    ...opts.env,
  };
  // each app's last lines, kept to say why an app that exits while starting did
  const tails = new Map<string, string[]>();
  const log = (source: string, line: string) => {
    const tail = tails.get(source) ?? [];
    if (tail.push(line) > 20) tail.shift();
    tails.set(source, tail);
    (opts.log ?? show)(source, line);
  };
  const apps = await startApps({ env, apps: opts.apps, log });
  teardown(async () => {
    await apps.stop(15_000);
    await infra.stop();
  });
  const url = `http://127.0.0.1:${port}`;
  // an app that exits while starting (bad configuration…) fails the start at once, not in 60 s
  let healthy = false;
  const died = new Promise<never>((_, reject) => {
    for (const h of apps.handles.values()) {
      h.exited?.then((code) => {
        const said = (tails.get(h.name) ?? []).join('\n');
        if (!healthy) reject(new Error(`${h.name} exited with code ${code} before the platform was healthy${said ? `; its last lines:\n${said}` : ''}`));
      });
    }
  });
  died.catch(() => {});
  const gaveUp = new AbortController();
  await Promise.race([waitForHealthy(url, 60_000, gaveUp.signal), died]).finally(() => gaveUp.abort());
  healthy = true;
  return { url, env, infra, apps, token: (sub) => mintToken(TEST_JWT_SECRET, sub, 3600) };
}
