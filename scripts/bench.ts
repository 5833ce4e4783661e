/**
 * Reel benchmark: `npm run bench [-- --seconds N --runs N]`.
 *
 * (a) Encoder: the same generated 720p30 clip with audio is encoded
 *     (i)  by Reel's ladder command (planLadder on the probed clip → ladderArgs → runFfmpeg):
 *          one decode feeding every rung;
 *     (ii) by the reference: the same rungs, one ffmpeg run per rung, one after another, each
 *          built with ladderArgs and a one-rung ladder so every x264/AAC/HLS option is identical.
 *     Runs are interleaved (and their order alternated) so both see the same background load.
 * (b) End to end: the whole platform (NATS, Postgres, S3 server, the five apps as processes) is
 *     started, the clip uploaded over HTTP, and the time from the POST until status "ready"
 *     measured and split by the stage GET /v1/videos/:id reports. Beside it: the ladder command
 *     alone, run again right after each upload (same background load), and the median of (a)(i),
 *     so the pipeline's overhead is visible; plus the CPU seconds the whole platform spent,
 *     by service, against the encode's own.
 *
 * Wall times depend on whatever else the machine runs; the CPU seconds (Linux /proc) much less.
 *
 * Everything runs against timeouts; temp dirs and processes are removed at the end.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import type { Rung } from '@reel/events';
import { ladderArgs, probe, resolveFfmpeg, runFfmpeg } from '@reel/media';
import { makeClip, startTestPlatform, uploadFile } from '@reel/stack';
import { planLadder, SEGMENT_SEC } from '../apps/ingest/src/ladder.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    runs: { type: 'string', default: '2' },
    preset: { type: 'string', default: 'veryfast' },
    'skip-e2e': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const PRESET = values.preset ?? 'veryfast';
if (!(SECONDS > 0 && SECONDS <= 600) || !(Number.isInteger(RUNS) && RUNS >= 1 && RUNS <= 20)) {
  console.error('usage: node scripts/bench.ts [--seconds 1..600] [--runs 1..20] [--preset veryfast] [--skip-e2e]');
  process.exit(2);
}

// ---------- cleanup and time bounds ----------

const teardowns: (() => Promise<void> | void)[] = [];
/** Aborted on failure or interruption: kills a running ffmpeg. */
const stop = new AbortController();
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of teardowns.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error('teardown failed:', err);
      }
    }
  })();
  return cleaning;
}
async function fail(why: unknown, code = 1): Promise<never> {
  console.error(why instanceof Error ? (why.stack ?? why.message) : why);
  stop.abort();
  await Promise.race([cleanup(), new Promise((r) => setTimeout(r, 30_000))]);
  process.exit(code);
}
process.once('SIGINT', () => void fail('interrupted', 130));
// one ffmpeg run may take this long; the whole benchmark at most the global budget
const FFMPEG_TIMEOUT_MS = Math.max(60_000, SECONDS * 10_000);
const READY_TIMEOUT_MS = Math.max(180_000, SECONDS * 20_000);
const BUDGET_MS = 180_000 + RUNS * (6 * FFMPEG_TIMEOUT_MS + READY_TIMEOUT_MS);
setTimeout(() => void fail(`benchmark exceeded its ${Math.round(BUDGET_MS / 1000)} s budget`), BUDGET_MS).unref();

// ---------- helpers ----------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};
const f = (n: number, digits = 2) => n.toFixed(digits);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds used by this process's reaped children (ffmpeg), from /proc; undefined off Linux. */
function childCpuSec(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); cutime and cstime are fields 16 and 17
    return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** What a direct child of this process is, from its command line: an app, or a server. */
function labelOf(pid: number): string {
  let argv: string[] = [];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return 'other';
  }
  const cmd = argv.join(' ');
  const app = /apps\/([a-z-]+)\/src\/main\.ts/.exec(cmd)?.[1];
  if (app) return app === 'transcoder' ? 'transcoder (incl. its ffmpeg)' : app;
  if (/swift/.test(cmd)) return 's3 server (swift)';
  return basename(argv[0] ?? 'other');
}

/**
 * CPU seconds used so far by every live descendant of this process (the platform's servers and
 * apps), counting the children they have reaped (ffmpeg, Postgres backends), grouped by the
 * direct child they descend from; undefined off Linux.
 */
function treeCpu(): Map<string, number> | undefined {
  try {
    const procs = new Map<number, { ppid: number; ticks: number }>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const x = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // x[1] = ppid (field 4); x[11..14] = utime, stime, cutime, cstime (fields 14-17)
      procs.set(Number(name), { ppid: Number(x[1]), ticks: Number(x[11]) + Number(x[12]) + Number(x[13]) + Number(x[14]) });
    }
    /** The direct child of ours that `pid` descends from (or is), if any. */
    const topOf = (pid: number): number | undefined => {
      for (let cur = pid, hops = 0; hops < 64; hops++) {
        const parent = procs.get(cur)?.ppid;
        if (!parent) return undefined;
        if (parent === process.pid) return cur;
        cur = parent;
      }
      return undefined;
    };
    const out = new Map<string, number>();
    for (const [pid, info] of procs) {
      const top = topOf(pid);
      if (top === undefined) continue;
      const label = labelOf(top);
      out.set(label, (out.get(label) ?? 0) + info.ticks / CLK_TCK);
    }
    return out;
  } catch {
    return undefined;
  }
}
const sumOf = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
function cpuDelta(before: Map<string, number> | undefined, after: Map<string, number> | undefined): Map<string, number> | undefined {
  if (!before || !after) return undefined;
  const d = new Map<string, number>();
  for (const [k, v] of after) d.set(k, v - (before.get(k) ?? 0));
  return d;
}

interface Measure {
  wallSec: number;
  cpuSec: number | undefined;
  bytes: number;
}

async function encode(ffmpegBin: string, input: string, ladders: Rung[][], audio: boolean, outRoot: string, durationSec: number): Promise<Measure> {
  mkdirSync(outRoot, { recursive: true });
  const jobs = ladders.map((ladder, j) => {
    const outDir = join(outRoot, String(j));
    for (const i of ladder.keys()) mkdirSync(join(outDir, String(i)), { recursive: true });
    return ladderArgs({ ladder, chunk: { index: 0, count: 1, startSec: 0, durationSec }, audio, segmentSec: SEGMENT_SEC, outDir, preset: PRESET });
  });
  const cpu0 = childCpuSec();
  const t0 = performance.now();
  for (const args of jobs) {
    const run = {
      bin: ffmpegBin,
      input,
      ...args,
      what: 'ladder',
      action: 'encode the reference ladder',
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(FFMPEG_TIMEOUT_MS)]),
    };
    await runFfmpeg(run);
  }
  const wallSec = (performance.now() - t0) / 1000;
  const cpu1 = childCpuSec();
  const bytes = dirBytes(outRoot);
  rmSync(outRoot, { recursive: true, force: true });
  return { wallSec, cpuSec: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined, bytes };
}

// ---------- setup ----------

const { ffmpeg: ffmpegBin, ffprobe: ffprobeBin } = resolveFfmpeg();
const ffmpegVersion = (() => {
  try {
    return execFileSync(ffmpegBin, ['-version'], { encoding: 'utf8', timeout: 10_000 }).split('\n')[0] ?? '?';
  } catch {
    return '?';
  }
})();
const loadStart = load();
const startedAt = new Date();
console.log(`Reel benchmark — ${startedAt.toISOString()}`);
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}`);
console.log(`ffmpeg:  ${ffmpegVersion}`);
console.log(`options: --seconds ${SECONDS} --runs ${RUNS}, x264 preset ${PRESET}, ${SEGMENT_SEC} s segments`);
console.log(`load average (1/5/15 min) at start: ${loadStart}\n`);

const dir = mkdtempSync(join(tmpdir(), 'reel-bench-'));
const removeDir = () => {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort
  }
};
teardowns.push(removeDir);
// killed (SIGTERM exits at once, see @reel/stack testing.ts): the stack SIGKILLs its processes, we remove the dir
process.once('exit', removeDir);

try {
  const t0 = performance.now();
  const clip = makeClip(dir, 'landscape', SECONDS);
  const p = await probe(ffprobeBin, clip, AbortSignal.timeout(60_000));
  const ladder = planLadder(p);
  console.log(
    `clip: ${p.displayWidth}x${p.displayHeight} @ ${p.fps} fps, ${f(p.durationSec)} s, audio ${p.hasAudio ? 'yes' : 'no'}, ` +
      `${mb(statSync(clip).size)} (generated in ${f((performance.now() - t0) / 1000, 1)} s)`,
  );
  console.log(`ladder: ${ladder.map((r) => `${r.name} ${r.width}x${r.height} ${Math.round(r.videoBitrate / 1000)}k`).join(', ')}\n`);

  // ---------- (a) encoder comparison ----------
  console.log(`(a) encoder comparison, ${RUNS} run(s) each, interleaved…`);
  const single: Measure[] = [];
  const separate: Measure[] = [];
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 === 0 ? (['single', 'separate'] as const) : (['separate', 'single'] as const);
    for (const kind of order) {
      const ladders = kind === 'single' ? [ladder] : ladder.map((r) => [r]);
      const m = await encode(ffmpegBin, clip, ladders, p.hasAudio, join(dir, `${kind}-${run}`), p.durationSec);
      (kind === 'single' ? single : separate).push(m);
      console.log(
        `  run ${run + 1} ${kind.padEnd(8)} ${f(m.wallSec)} s wall, ${f(p.durationSec / m.wallSec)}x real time` +
          `${m.cpuSec !== undefined ? `, ${f(m.cpuSec, 1)} CPU s` : ''}, ${mb(m.bytes)}   [load ${load()}]`,
      );
    }
  }
  const summary = (name: string, ms: Measure[]) => {
    const wall = median(ms.map((m) => m.wallSec));
    const cpu = ms.every((m) => m.cpuSec !== undefined) ? median(ms.map((m) => m.cpuSec ?? 0)) : undefined;
    return {
      name,
      wall,
      cpu,
      bytes: median(ms.map((m) => m.bytes)),
      row: [
        name,
        `${f(wall)} s`,
        `${f(p.durationSec / wall)}x`,
        cpu === undefined ? 'n/a' : `${f(cpu, 1)} s`,
        mb(median(ms.map((m) => m.bytes))),
        ms.map((m) => f(m.wallSec)).join(', '),
      ],
    };
  };
  const a1 = summary(`(i) Reel ladder: 1 ffmpeg, 1 decode, ${ladder.length} rungs`, single);
  const a2 = summary(`(ii) reference: ${ladder.length} ffmpeg runs, 1 rung each`, separate);
  const ratioRow = [
    'ratio (ii) / (i)',
    `${f(a2.wall / a1.wall)}x`,
    '',
    a1.cpu !== undefined && a2.cpu !== undefined ? `${f(a2.cpu / a1.cpu)}x` : 'n/a',
    `${f(a2.bytes / a1.bytes, 3)}x`,
    '',
  ];

  // ---------- (b) end to end ----------
  type Stage = { stage: string; atSec: number };
  const e2e: {
    uploadSec: number;
    totalSec: number;
    stages: Stage[];
    status: string;
    platformCpuSec: number | undefined;
    cpuBy: Map<string, number> | undefined;
  }[] = [];
  // the ladder command again, right after each upload (platform up and idle), so that the
  // pipeline is compared with an encode made under the same background load
  const adjacent: Measure[] = [];
  let idleCpuPerSec: number | undefined;
  let platformStartSec = 0;
  let loadBeforeE2e = '';
  if (!values['skip-e2e']) {
    console.log('\n(b) end to end: starting the platform (NATS, Postgres, S3 server, 5 apps)…');
    loadBeforeE2e = load();
    // the platform's temp dirs go under ours (os.tmpdir() reads TMPDIR), so a start that fails
    // half-way leaves nothing behind in /tmp; Postgres (run as its own user) must enter them
    const platformTmp = join(dir, 'platform');
    mkdirSync(platformTmp, { mode: 0o755 });
    chmodSync(dir, 0o755);
    process.env.TMPDIR = platformTmp;
    const ps = performance.now();
    let platform: Awaited<ReturnType<typeof startTestPlatform>> | undefined;
    for (let attempt = 1; !platform; attempt++) {
      try {
        platform = await startTestPlatform((fn) => teardowns.push(fn));
      } catch (err) {
        // one retry: under heavy load a server can refuse its first connection while starting
        if (attempt >= 2) throw err;
        console.log(`  platform start failed (${err instanceof Error ? err.message : err}); retrying once`);
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    platformStartSec = (performance.now() - ps) / 1000;
    const token = await platform.token('bench');
    const auth = { authorization: `Bearer ${token}` };
    console.log(`  platform healthy in ${f(platformStartSec, 1)} s   [load ${load()}]`);
    const idle0 = treeCpu();
    await new Promise((r) => setTimeout(r, 5000));
    const idle = cpuDelta(idle0, treeCpu());
    if (idle) idleCpuPerSec = sumOf(idle) / 5;
    for (let run = 0; run < RUNS; run++) {
      const cpuBefore = treeCpu();
      const t = performance.now();
      const since = () => (performance.now() - t) / 1000;
      const res = await uploadFile(platform.url, token, clip, { title: `bench ${run + 1}` });
      const uploadSec = since();
      if (res.status !== 202) throw new Error(`upload refused: ${res.status} ${await res.text()}`);
      const { id } = (await res.json()) as { id: string };
      // poll the video, noting when each stage is first seen
      const stages: Stage[] = [];
      let status = '';
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (Date.now() < deadline) {
        const r = await fetch(`${platform.url}/v1/videos/${id}`, { headers: auth, signal: AbortSignal.timeout(10_000) });
        let stage = 'accepted (not in catalog yet)';
        if (r.ok) {
          const v = (await r.json()) as { status: string; progress?: { stage: string } };
          status = v.status;
          stage = v.status === 'processing' ? (v.progress?.stage ?? 'processing') : v.status;
        } else {
          await r.body?.cancel();
        }
        if (stages.at(-1)?.stage !== stage) stages.push({ stage, atSec: since() });
        if (status === 'ready' || status === 'failed') break;
        await new Promise((done) => setTimeout(done, 100));
      }
      const totalSec = since();
      const cpuAfter = treeCpu();
      if (status !== 'ready') throw new Error(`video ${id} ended as "${status || 'unknown'}" after ${f(totalSec)} s`);
      const cpuBy = cpuDelta(cpuBefore, cpuAfter);
      const platformCpuSec = cpuBy && sumOf(cpuBy);
      e2e.push({ uploadSec, totalSec, stages, status, platformCpuSec, cpuBy });
      console.log(
        `  upload ${run + 1}: ready in ${f(totalSec)} s (${f(p.durationSec / totalSec)}x real time)` +
          `${platformCpuSec !== undefined ? `, platform CPU ${f(platformCpuSec, 1)} s` : ''}   [load ${load()}]`,
      );
      const m = await encode(ffmpegBin, clip, [ladder], p.hasAudio, join(dir, `adjacent-${run}`), p.durationSec);
      adjacent.push(m);
      console.log(
        `  reference encode ${run + 1} (ladder command, platform idle): ${f(m.wallSec)} s wall, ${f(p.durationSec / m.wallSec)}x` +
          `${m.cpuSec !== undefined ? `, ${f(m.cpuSec, 1)} CPU s` : ''}   [load ${load()}]`,
      );
    }
  }

  // ---------- report ----------
  const loadEnd = load();
  console.log('\n=== (a) encoder: same clip, same rungs and options; median of', RUNS, 'run(s) ===');
  console.log(`clip: ${SECONDS} s 720p30 + AAC stereo; rungs: ${ladder.map((r) => r.name).join(' / ')}; x264 ${PRESET}\n`);
  console.log(table(['encoding', 'wall', 'speed (x real time)', 'ffmpeg CPU', 'output', 'each run (s)'], [a1.row, a2.row, ratioRow]));

  if (e2e.length) {
    console.log(`\n=== (b) end to end: POST /v1/videos → status "ready"; ${e2e.length} upload(s), one at a time ===\n`);
    // stage durations: from the first poll that saw the stage to the first poll that saw the next one
    const order = ['accepted (not in catalog yet)', 'ingest', 'transcode', 'thumbnails'];
    const rank = (s: string) => (order.includes(s) ? order.indexOf(s) : order.length);
    const stageNames = [...new Set(e2e.flatMap((r) => r.stages.map((s) => s.stage)))].filter((s) => s !== 'ready').sort((a, b) => rank(a) - rank(b));
    const perRun = e2e.map((r) => {
      const d = new Map<string, number>();
      d.set('upload (POST → 202)', r.uploadSec);
      r.stages.forEach((s, i) => {
        if (s.stage === 'ready') return;
        const start = i === 0 ? r.uploadSec : s.atSec;
        const end = r.stages[i + 1]?.atSec ?? r.totalSec;
        d.set(s.stage, (d.get(s.stage) ?? 0) + end - start);
      });
      return d;
    });
    const label: Record<string, string> = {
      ingest: 'ingest (probe, plan)',
      transcode: 'transcode + package',
      thumbnails: 'waiting for images',
    };
    const rows = ['upload (POST → 202)', ...stageNames].map((s) => {
      const xs = perRun.map((d) => d.get(s) ?? 0);
      return [`  ${label[s] ?? s}`, `${f(median(xs))} s`, '', xs.map((x) => f(x)).join(', ')];
    });
    const total = median(e2e.map((r) => r.totalSec));
    const adjWall = median(adjacent.map((m) => m.wallSec));
    const overhead = e2e.map((r, i) => r.totalSec - (adjacent[i]?.wallSec ?? 0));
    const cpuRuns = e2e.map((r) => r.platformCpuSec);
    const cpuKnown = cpuRuns.every((c) => c !== undefined) && adjacent.every((m) => m.cpuSec !== undefined);
    const platformCpu = median(cpuRuns.map((c) => c ?? 0));
    const adjCpu = median(adjacent.map((m) => m.cpuSec ?? 0));
    console.log(
      table(
        ['measure', 'time', 'speed (x real time)', 'each run (s)'],
        [
          ['clip duration', `${f(p.durationSec)} s`, '', ''],
          ['total: POST → ready', `${f(total)} s`, `${f(p.durationSec / total)}x`, e2e.map((r) => f(r.totalSec)).join(', ')],
          ...rows,
          [
            'reference: ladder command, right after each upload',
            `${f(adjWall)} s`,
            `${f(p.durationSec / adjWall)}x`,
            adjacent.map((m) => f(m.wallSec)).join(', '),
          ],
          ['reference: (a)(i) median from part (a)', `${f(a1.wall)} s`, `${f(p.durationSec / a1.wall)}x`, single.map((m) => f(m.wallSec)).join(', ')],
          ['pipeline overhead: total − adjacent encode', `${f(median(overhead))} s`, `${f(total / adjWall)}x the encode`, overhead.map((x) => f(x)).join(', ')],
          ...(cpuKnown
            ? [
                [
                  'CPU: whole platform, POST → ready',
                  `${f(platformCpu, 1)} s`,
                  `${f(platformCpu / adjCpu)}x the encode's CPU`,
                  cpuRuns.map((c) => f(c ?? 0, 1)).join(', '),
                ],
                ...[...new Set(e2e.flatMap((r) => [...(r.cpuBy?.keys() ?? [])]))]
                  .map((k) => ({ k, xs: e2e.map((r) => r.cpuBy?.get(k) ?? 0) }))
                  .sort((a, b) => median(b.xs) - median(a.xs))
                  .map(({ k, xs }) => [`  ${k}`, `${f(median(xs), 1)} s`, '', xs.map((x) => f(x, 1)).join(', ')]),
                ['  (idle platform over that time, estimated)', `${f((idleCpuPerSec ?? 0) * total, 1)} s`, '', `${f(idleCpuPerSec ?? 0, 3)} CPU s/s when idle`],
                ['CPU: ffmpeg, adjacent ladder command', `${f(adjCpu, 1)} s`, '', adjacent.map((m) => f(m.cpuSec ?? 0, 1)).join(', ')],
              ]
            : []),
        ],
      ),
    );
    console.log(`\nplatform start (not counted above): ${f(platformStartSec, 1)} s; stage times are seen by polling every ~100 ms`);
  }
  console.log(
    `\nload average (1/5/15 min): start ${loadStart}${loadBeforeE2e ? `, before (b) ${loadBeforeE2e}` : ''}, end ${loadEnd} (${cpus().length} cores)`,
  );
  console.log(`elapsed: ${f((Date.now() - startedAt.getTime()) / 1000, 0)} s`);
} catch (err) {
  await fail(err);
}
await cleanup();
process.exit(0);
