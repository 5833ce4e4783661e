import type { Result } from './harness.ts';

const verdict = (r: Result) => (r.pass ? 'PASS' : 'FAIL');
const recover = (r: Result) => (r.recoverSec === undefined ? '—' : `${r.recoverSec} s`);
const left = (r: Result) => (r.leftBehind.length ? r.leftBehind.join('; ') : 'nothing');
const outcome = (r: Result) => [r.outcome || '—', ...r.problems].join('; ');

const COLS = [26, 8, 10] as const;

/** The header (and rows) for the terminal. */
export function textTable(results: Result[]): string {
  const head = `${'scenario'.padEnd(COLS[0])}${'result'.padEnd(COLS[1])}${'recover'.padEnd(COLS[2])}outcome | left behind`;
  return [head, '-'.repeat(100), ...results.map(textRow)].join('\n');
}

export function textRow(r: Result): string {
  return `${r.scenario.padEnd(COLS[0])}${verdict(r).padEnd(COLS[1])}${recover(r).padEnd(COLS[2])}${outcome(r)} | ${left(r)}`;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(results: Result[]): string {
  return [
    '| scenario | result | outcome | time to recover | left behind | wall |',
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.scenario} | ${verdict(r)} | ${cell(outcome(r))} | ${recover(r)} | ${cell(left(r))} | ${r.wallSec} s |`),
  ].join('\n');
}
