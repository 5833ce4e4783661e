// Progress on stderr: a redrawn bar on a terminal, plain lines (every 10 %) otherwise, so logs
// and pipes stay readable. stdout is left for results.

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class Progress {
  private readonly out: Out;
  private readonly tty: boolean;
  private lastDraw = 0;
  private lastStep = -1;
  private lastLabel = '';
  private drawn = false;
  private startedAt = Date.now();
  private startBytes = 0;

  constructor(out: Out = process.stderr, tty = Boolean(out.isTTY)) {
    this.out = out;
    this.tty = tty;
  }

  /** A message on its own line (clears a bar being drawn). */
  line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  /** Bytes sent of a total (the upload). */
  bytes(label: string, done: number, total: number): void {
    if (label !== this.lastLabel) {
      this.startedAt = Date.now();
      this.startBytes = done;
    }
    const pct = total > 0 ? (done / total) * 100 : 100;
    const elapsed = (Date.now() - this.startedAt) / 1000;
    const rate = elapsed > 0.5 ? (done - this.startBytes) / elapsed : 0;
    const detail = `${formatBytes(done)} / ${formatBytes(total)}${rate > 0 ? `  ${formatBytes(rate)}/s` : ''}${rate > 0 && done < total ? `  ${eta((total - done) / rate)}` : ''}`;
    this.show(label, pct, detail, `${formatBytes(done)} of ${formatBytes(total)}`);
  }

  /** A percentage of a stage (ingest, transcode, package, …). */
  percent(label: string, pct: number): void {
    this.show(label, pct, '', '');
  }

  /** Ends a bar: the terminal line is kept, a new line follows. */
  done(): void {
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = false;
    this.lastLabel = '';
    this.lastStep = -1;
  }

  /** Removes a bar being drawn. */
  clear(): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
    this.lastDraw = 0;
  }

  private show(label: string, pct: number, ttyDetail: string, plainDetail: string): void {
    const p = Math.max(0, Math.min(100, pct));
    const newLabel = label !== this.lastLabel;
    if (newLabel && this.lastLabel) this.done();
    this.lastLabel = label;
    if (this.tty) {
      const now = Date.now();
      if (!newLabel && p < 100 && now - this.lastDraw < 80) return;
      this.lastDraw = now;
      const width = Math.max(10, Math.min(30, (this.out.columns || 80) - 60));
      const filled = Math.round((p / 100) * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      this.out.write(`\r\x1b[K${label.padEnd(10)} ${bar} ${p.toFixed(0).padStart(3)}%  ${ttyDetail}`);
      this.drawn = true;
      return;
    }
    const step = Math.floor(p / 10);
    if (step === this.lastStep && !newLabel) return;
    this.lastStep = step;
    this.out.write(`${label}: ${Math.floor(p)}%${plainDetail ? ` (${plainDetail})` : ''}\n`);
  }
}

function eta(sec: number): string {
  if (!Number.isFinite(sec)) return '';
  if (sec < 60) return `${Math.ceil(sec)}s left`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m}m${String(Math.ceil(sec % 60)).padStart(2, '0')}s left`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m left`;
}
