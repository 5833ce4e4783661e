// Human-readable output on stdout (`--json` prints the API's JSON instead).
import type { Video } from './api.ts';

export function formatDuration(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec)) return '-';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

export function formatRate(bps: number): string {
  return bps >= 1_000_000 ? `${(bps / 1_000_000).toFixed(1)} Mb/s` : `${Math.round(bps / 1000)} kb/s`;
}

function formatDate(iso: string | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** One video as `key  value` lines. */
export function videoText(v: Video): string {
  const rows: [string, string][] = [
    ['id', v.id],
    ['title', v.title],
    ['status', v.status + (v.status === 'processing' && v.progress ? ` (${v.progress.stage} ${Math.floor(v.progress.percent)}%)` : '')],
    ['visibility', v.visibility],
  ];
  if (v.error) rows.push(['error', `${v.error.code}${v.error.stage ? ` in ${v.error.stage}` : ''}: ${v.error.message}`]);
  if (v.duration !== undefined) rows.push(['duration', `${formatDuration(v.duration)} (${v.duration.toFixed(1)} s)`]);
  if (v.source)
    rows.push([
      'source',
      `${v.source.width}x${v.source.height}${v.source.fps ? ` ${Math.round(v.source.fps * 100) / 100} fps` : ''}${v.source.videoCodec ? ` ${v.source.videoCodec}` : ''}${v.source.hasAudio === false ? ', no audio' : ''}`,
    ]);
  if (v.renditions?.length) rows.push(['renditions', v.renditions.map((r) => `${r.name} ${r.width}x${r.height} ${formatRate(r.bandwidth)}`).join(', ')]);
  if (v.playback?.hls) rows.push(['hls', v.playback.hls]);
  if (v.playback?.poster) rows.push(['poster', v.playback.poster]);
  if (v.playback?.expiresAt) rows.push(['links until', formatDate(v.playback.expiresAt)]);
  rows.push(['created', formatDate(v.createdAt)]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, val]) => `${k.padEnd(w)}  ${val}`).join('\n')}\n`;
}

/** A table with a header row; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export function videoRow(v: Video): string[] {
  const status = v.status === 'processing' && v.progress ? `processing ${Math.floor(v.progress.percent)}%` : v.status;
  const title = v.title.length > 48 ? `${v.title.slice(0, 47)}…` : v.title;
  return [v.id, status, title, formatDuration(v.duration), formatDate(v.createdAt)];
}
