/**
 * Reel chaos suite: `npm run chaos [-- --only name,name] [--list] [--out DIR] [--timeout-sec N]`
 * (N: time for a scenario's own steps, on top of its wait for the videos; 300 by default).
 *
 * Each scenario (scripts/chaos/scenarios.ts) starts a fresh platform (NATS, Postgres, the S3
 * server and every app, each its own process), injects its fault, then checks (chaos/checks.ts):
 * every accepted video ready (or failed with a reason), none stuck processing; ready ones have
 * every rung ingest planned, the audio rendition of a chunked video, playlists as long as the
 * source and every segment they name, a poster, thumbnails and a storyboard; /v1/health ok
 * without restarting anything; the VIDEO, WORK and LIVE streams and every durable consumer of the
 * start still there and drained; no work item left in WORK; nothing of a deleted video in either
 * bucket; no incomplete multipart upload; no ffmpeg of the run left; nothing in the apps' temp
 * dir. One table row per scenario; exit code 1 if any failed. A problem that is the platform's
 * (not the suite's) starts with `PLATFORM:`. Logs of every server and app go to
 * `<out>/<scenario>.log`; the table to `<out>/results.md` and `results.json`.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '@reel/stack';
import { type Result, runScenario } from './chaos/harness.ts';
import { markdownTable, textRow, textTable } from './chaos/report.ts';
import { SCENARIOS } from './chaos/scenarios.ts';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    list: { type: 'boolean', default: false },
    out: { type: 'string' },
    'timeout-sec': { type: 'string', default: '300' },
  },
});

if (values.list) {
  for (const s of SCENARIOS) console.log(`${s.name.padEnd(26)} ${s.fault}`);
  process.exit(0);
}
const wanted = values.only?.split(',').map((s) => s.trim());
const unknown = wanted?.filter((w) => !SCENARIOS.some((s) => s.name === w)) ?? [];
if (unknown.length) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; --list shows them`);
  process.exit(2);
}
const scenarios = SCENARIOS.filter((s) => !wanted || wanted.includes(s.name));

const started = new Date();
const runId = randomUUID();
const outDir = resolve(values.out ?? join(ROOT, '.reel', 'chaos', started.toISOString().replace(/[:.]/g, '-')));
mkdirSync(outDir, { recursive: true });
// the Postgres of a scenario runs as the postgres user: it must reach its directory
const clipsDir = mkdtempSync(join(tmpdir(), 'reel-chaos-clips-'));
chmodSync(clipsDir, 0o755);

const loads: number[] = [];
const sampler = setInterval(() => loads.push(loadavg()[0] ?? 0), 10_000);
sampler.unref();
let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  console.error('interrupted: finishing the current scenario’s cleanup…');
});

console.log(`Reel chaos suite, ${started.toISOString()}, ${scenarios.length} scenario(s); logs in ${outDir}\n`);
console.log(textTable([]));
const results: Result[] = [];
for (const s of scenarios) {
  if (interrupted) break;
  const r = await runScenario(s, { runId, outDir, clipsDir, timeoutMs: Number(values['timeout-sec']) * 1000 });
  results.push(r);
  console.log(textRow(r));
}
clearInterval(sampler);
rmSync(clipsDir, { recursive: true, force: true });

const finished = new Date();
const machine = {
  date: started.toISOString(),
  minutes: Math.round((finished.getTime() - started.getTime()) / 6000) / 10,
  cpus: cpus().length,
  memGiB: Math.round(totalmem() / 2 ** 30),
  load1: { start: loads[0] ?? loadavg()[0], mean: mean(loads), max: Math.max(0, ...loads) },
  commit: git(['rev-parse', '--short', 'HEAD']),
  dirty: git(['status', '--porcelain', '--untracked-files=no']).length > 0,
};
const failed = results.filter((r) => !r.pass);
const summary = `${results.length - failed.length}/${results.length} scenarios passed; ${machine.minutes} min; ${machine.cpus} CPUs, load (1 min) mean ${machine.load1.mean.toFixed(1)}, max ${machine.load1.max.toFixed(1)}; commit ${machine.commit}${machine.dirty ? ' + uncommitted changes' : ''}`;
console.log(`\n${textTable(results)}\n\n${summary}`);
for (const r of results) {
  if (r.notes.length) console.log(`\n${r.scenario}:\n  ${r.notes.join('\n  ')}`);
}
writeFileSync(join(outDir, 'results.json'), JSON.stringify({ machine, results }, null, 2));
writeFileSync(join(outDir, 'results.md'), `${markdownTable(results)}\n\n${summary}\n`);
console.log(`\nresults: ${join(outDir, 'results.md')}`);
process.exit(failed.length || interrupted ? 1 : 0);

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : (loadavg()[0] ?? 0);
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}
