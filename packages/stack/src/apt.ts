import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Thrown when a system package is missing and cannot be installed here. */
export class MissingDependencyError extends Error {
  override name = 'MissingDependencyError';
}

/** True when `cmd` resolves on PATH (or is an existing absolute path). */
export function hasCommand(cmd: string): boolean {
  if (cmd.startsWith('/')) return existsSync(cmd);
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** True when the Python module imports under Debian's /usr/bin/python3. */
export function hasPythonModule(mod: string): boolean {
  return spawnSync('/usr/bin/python3', ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;
}

let updated = false;

/**
 * Installs Debian packages with apt-get (as root, or through sudo when available).
 * Used by the launcher only for what is missing; a machine that has everything never runs apt.
 */
export function aptInstall(packages: string[], log: (line: string) => void = console.error): void {
  if (packages.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? [] : hasCommand('sudo') ? ['sudo', '-n'] : null;
  if (!sudo || !hasCommand('apt-get')) {
    throw new MissingDependencyError(
      `missing system packages: ${packages.join(', ')}; install them (Debian/Ubuntu: apt-get install -y ${packages.join(' ')}) or point the matching *_URL/_ENDPOINT variable at a running service`,
    );
  }
  // another apt (an unattended upgrade, a second test run installing at the same time) may hold
  // the lock: wait for it rather than fail
  const run = ([apt, ...args]: string[]) => {
    const [cmd, ...rest] = [...sudo, apt as string, '-o', 'DPkg::Lock::Timeout=300', ...args];
    execFileSync(cmd as string, rest, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  };
  log(`installing ${packages.join(' ')} with apt-get (one time)…`);
  if (!updated) {
    run(['apt-get', 'update', '-qq']);
    updated = true;
  }
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages]);
}
