#!/usr/bin/env node
// The `reel` command. Plain JavaScript on purpose: it must start on any Node ≥ 20 (the system
// node of many machines), while the CLI itself is TypeScript (src/main.ts). A Node that strips
// types runs it in this process; an older one hands it to the Node 24 that `npm ci` installs
// into the workspace (the `node` npm package), with the same arguments, stdio and exit code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, '..', 'src', 'main.ts');

if (process.features.typescript) {
  await import(pathToFileURL(main).href);
} else {
  const node = findNode();
  if (!node) {
    process.stderr.write(
      `reel: this Node (${process.version}) cannot run TypeScript, and the workspace's Node 24 was not found.\n` +
        'Run `npm ci` at the root of the repository (it installs Node 24 as the `node` dev dependency), or use Node ≥ 22.18.\n',
    );
    process.exit(1);
  }
  const child = spawn(node, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  // a signal for us is one for the CLI (which saves nothing half-done: an upload resumes)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`reel: could not start ${node}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

/** node_modules/node/bin/node (or node_modules/.bin/node) in this package or any folder above it. */
function findNode() {
  if (process.env.REEL_NODE) return process.env.REEL_NODE;
  for (let dir = here; ; dir = dirname(dir)) {
    for (const candidate of [join(dir, 'node_modules', 'node', 'bin', 'node'), join(dir, 'node_modules', '.bin', 'node')]) {
      if (existsSync(candidate)) return candidate;
    }
    if (dirname(dir) === dir) return undefined;
  }
}
