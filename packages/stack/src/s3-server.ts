import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aptInstall, hasCommand, hasPythonModule } from './apt.ts';
import { freePort } from './ports.ts';
import { type ManagedProcess, startProcess, waitForPort } from './process.ts';
import { processResource, type Restartable, withProps } from './restartable.ts';

/**
 * A real S3-compatible server for local runs and tests: OpenStack Swift (Debian's
 * python3-swift) with its s3api and tempauth middleware, bound to 127.0.0.1.
 *
 * The account, container, object and proxy servers all run in one Python process
 * (packages/stack/swift/serve.py) with an in-process cache instead of memcached.
 * What s3api 2.30 does not do: PutBucketCors and object tagging answer 501 (CORS is set in
 * the proxy config below instead); an empty `delimiter=` (minio-js) breaks ListMultipartUploads;
 * DeleteObjects demands Content-MD5, which AWS SDK v3 no longer sends; aws-chunked bodies are
 * refused (SDK clients need `requestChecksumCalculation: 'WHEN_REQUIRED'`).
 */
export interface S3Server extends Restartable {
  /** e.g. http://127.0.0.1:PORT (known once it has been up) */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

export interface S3ServerOptions {
  /** Holds everything: configs, rings, data, logs. Created when missing; reusable across runs. */
  dir: string;
  /** Port for the S3 endpoint; a free one at the first up() when omitted (then kept). */
  port?: number;
  /** Receives the server's warnings and errors (its full log is `<dir>/log/swift.log`). */
  log?: (line: string) => void;
}

const PYTHON = '/usr/bin/python3';
const SWIFT_DIR = fileURLToPath(new URL('../swift/', import.meta.url));
const REGION = 'us-east-1';
const ACCESS_KEY = 'test:tester';
const SECRET_KEY = 'testing';
const START_TIMEOUT_MS = 30_000;
const BIND_ATTEMPTS = 3;

let installed = false;

/** Installs python3-swift with apt-get when Debian's python3 cannot import s3api. */
export function ensureS3ServerInstalled(log: (line: string) => void = console.error): void {
  if (installed) return;
  if (!hasCommand(PYTHON) || !hasPythonModule('swift.common.middleware.s3api.s3api')) {
    aptInstall(['python3-swift'], log);
  }
  installed = true;
}

/** Swift as an S3 server with all its state under `opts.dir`, as a Resource (down until up()); down() leaves `dir` in place. */
export function s3Server(opts: S3ServerOptions): S3Server {
  let port = opts.port;
  const endpoint = () => `http://127.0.0.1:${port}`;
  const server = processResource('s3', {
    launch: async () => {
      const started = await launchSwift({ ...opts, port });
      port = started.port;
      return started.proc;
    },
    // the proxy pipeline's healthcheck middleware answers GET /healthcheck with 200 OK
    health: async () => (await fetch(`${endpoint()}/healthcheck`, { signal: AbortSignal.timeout(2000) })).ok,
    graceMs: 5000,
    killGroup: true,
  });
  return withProps(server, {
    get endpoint() {
      if (port === undefined) throw new Error('the S3 server has not been started');
      return endpoint();
    },
    region: REGION,
    accessKey: ACCESS_KEY,
    secretKey: SECRET_KEY,
  });
}

/** Starts Swift as an S3 server with all its state under `opts.dir`. */
export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
  const server = s3Server(opts);
  await server.up();
  return server;
}

async function launchSwift(opts: S3ServerOptions): Promise<{ proc: ManagedProcess; port: number }> {
  // Checking with hasPythonModule costs ~0.8 s (a second interpreter importing swift), so
  // just try, and install only when the start fails for want of the package.
  let triedInstall = installed;
  const dir = resolve(opts.dir);
  const etc = join(dir, 'etc');
  const logDir = join(dir, 'log');
  for (const d of [etc, logDir, join(dir, 'data', 'd1')]) mkdirSync(d, { recursive: true });

  for (let attempt = 1; ; attempt++) {
    const ports = await pickPorts(opts.port);
    writeConfigs(dir, ports);
    const stderrTail: string[] = [];
    let ready: (() => void) | undefined;
    const readyLine = new Promise<void>((res) => {
      ready = res;
    });
    const proc = startProcess('swift', PYTHON, ['-u', '-B', join(SWIFT_DIR, 'serve.py'), etc, join(logDir, 'swift.log'), String(process.pid)], {
      cwd: dir,
      env: pythonEnv(),
      log: (line) => {
        if (line === `READY ${ports.proxy}`) {
          ready?.();
          return;
        }
        stderrTail.push(line);
        if (stderrTail.length > 40) stderrTail.shift();
        opts.log?.(`[swift] ${line}`);
      },
    });
    try {
      await untilReady(proc, readyLine);
      await waitForPort(ports.proxy, { proc, timeoutMs: 5_000 });
    } catch (err) {
      await proc.stop(1000);
      const detail = stderrTail.join('\n');
      const notInstalled = !hasCommand(PYTHON) || /No module named '?(swift|eventlet|paste)/.test(detail);
      if (notInstalled && !triedInstall) {
        triedInstall = true;
        ensureS3ServerInstalled(opts.log);
        continue;
      }
      const portClash = /Address already in use|Could not bind/i.test(detail);
      if (portClash && opts.port === undefined && attempt < BIND_ATTEMPTS) {
        opts.log?.('[swift] port taken meanwhile; retrying with other ports');
        continue;
      }
      throw new Error(`${(err as Error).message}${detail ? `\n${detail}` : ''}`);
    }
    return { proc, port: ports.proxy };
  }
}

interface Ports {
  proxy: number;
  account: number;
  container: number;
  object: number;
}

async function pickPorts(proxyPort: number | undefined): Promise<Ports> {
  const taken = new Set<number>(proxyPort === undefined ? [] : [proxyPort]);
  const next = async () => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  const proxy = proxyPort ?? (await next());
  return { proxy, account: await next(), container: await next(), object: await next() };
}

/** Resolves on the READY line; rejects if the process exits first or takes too long. */
async function untilReady(proc: ManagedProcess, readyLine: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`swift did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
  });
  const exited = proc.exited.then((code) => {
    throw new Error(`swift exited with code ${code} while starting`);
  });
  try {
    await Promise.race([readyLine, exited, timeout]);
  } finally {
    clearTimeout(timer);
    exited.catch(() => {});
  }
}

function pythonEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PYTHONUNBUFFERED: '1',
    // Both shave start time (1.5 s -> 0.5 s): eventlet imports distutils, which setuptools'
    // hack would replace by all of setuptools (then monkey_patch's gc passes crawl);
    // green DNS pulls in dnspython, and every address here is a literal IP.
    SETUPTOOLS_USE_DISTUTILS: 'stdlib',
    EVENTLET_NO_GREENDNS: 'yes',
  };
  // a pyenv/virtualenv python's settings must not leak into Debian's interpreter
  for (const k of ['PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'VIRTUAL_ENV']) delete env[k];
  return env;
}

function writeConfigs(dir: string, ports: Ports): void {
  const etc = join(dir, 'etc');
  const write = (name: string, text: string) => writeFileSync(join(etc, name), `${text.trim()}\n`);

  write(
    'swift.conf',
    `
[swift-hash]
swift_hash_path_prefix = reel-local
swift_hash_path_suffix = reel-local

[storage-policy:0]
name = Policy-0
default = yes
`,
  );

  const common = (name: string, port: number) => `
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
bind_timeout = 2
workers = 0
swift_dir = ${etc}
devices = ${join(dir, 'data')}
mount_check = false
log_name = ${name}
log_level = INFO
`;

  for (const kind of ['account', 'container', 'object'] as const) {
    write(
      `${kind}-server.conf`,
      `
${common(`${kind}-server`, ports[kind])}
[pipeline:main]
pipeline = ${kind}-server

[app:${kind}-server]
use = egg:swift#${kind}
log_requests = false
`,
    );
  }

  // Filters used as Swift ships them: a section each with only its egg (proxy-logging's is proxy_logging).
  const asShipped = ['dlo', 'copy', 'versioned_writes', 'listing_formats', 'proxy-logging', 'healthcheck', 'gatekeeper', 'catch_errors'];
  write(
    'proxy-server.conf',
    `
${common('proxy-server', ports.proxy)}
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
cors_allow_origin = *
cors_expose_headers = content-range, accept-ranges, content-length, content-encoding, content-disposition, x-amz-request-id, x-amz-id-2, x-amz-version-id

[filter:cache]
paste.filter_factory = inproc_cache:filter_factory

[filter:s3api]
use = egg:swift#s3api
location = ${REGION}
cors_preflight_allow_origin = *
max_upload_part_num = 10000

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = ${SECRET_KEY} .admin

[filter:slo]
use = egg:swift#slo
max_manifest_segments = 10000

${asShipped.map((filter) => `[filter:${filter}]\nuse = egg:swift#${filter.replace('-', '_')}`).join('\n\n')}
`,
  );
}
