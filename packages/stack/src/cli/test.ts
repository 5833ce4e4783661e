// npm test: installs what npm can't (ffmpeg, nats-server, Postgres, the S3 server, Chromium, docker-compose)
// once, then runs every unit, contract and integration test with tap. Extra arguments go to tap.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../apps.ts';
import { aptInstall, hasCommand } from '../apt.ts';
import { ensureChromiumInstalled } from '../chromium.ts';
import { ensureFfmpegInstalled } from '../ffmpeg.ts';
import { ensureNatsInstalled } from '../nats-server.ts';
import { ensurePostgresInstalled } from '../postgres.ts';
import { ensureS3ServerInstalled } from '../s3-server.ts';

const say = (line: string) => process.stderr.write(`[test] ${line}\n`);
ensureFfmpegInstalled(say);
ensureNatsInstalled(say);
ensurePostgresInstalled(say);
ensureS3ServerInstalled(say);
ensureChromiumInstalled(say);
// the deploy tests validate docker-compose.yml with Debian's docker-compose (offline, no engine)
if (!hasCommand('docker-compose') && spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status !== 0) aptInstall(['docker-compose'], say);

const tap = spawn(join(ROOT, 'node_modules', '.bin', 'tap'), process.argv.slice(2), { cwd: ROOT, stdio: 'inherit' });
tap.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => tap.kill(sig));
