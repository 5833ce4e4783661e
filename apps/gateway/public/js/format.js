// @ts-check
// Small formatting helpers shared by the views.

/** 75.4 → "1:15"; 3725 → "1:02:05". */
export function formatTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Spoken form for aria-valuetext: "1 minute 15 seconds". */
export function spokenTime(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [];
  if (h) parts.push(`${h} hour${h === 1 ? '' : 's'}`);
  if (m) parts.push(`${m} minute${m === 1 ? '' : 's'}`);
  if (s % 60 || !parts.length) parts.push(`${s % 60} second${s % 60 === 1 ? '' : 's'}`);
  return parts.join(' ');
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 || n >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatBitrate(bps) {
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} Mb/s` : `${Math.round(bps / 1e3)} kb/s`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
/** "3 minutes ago", "yesterday", or a date for older ones. */
export function formatWhen(iso) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const diff = (t - Date.now()) / 1000;
  const abs = Math.abs(diff);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(diff / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(diff / 3600), 'hour');
  if (abs < 7 * 86400) return relative.format(Math.round(diff / 86400), 'day');
  return new Date(t).toLocaleDateString();
}

export const STATUS_LABELS = {
  waiting_upload: 'Waiting for upload',
  processing: 'Processing',
  ready: 'Ready',
  failed: 'Failed',
};

const STAGE_LABELS = {
  upload: 'Uploading',
  ingest: 'Checking the file',
  transcode: 'Transcoding',
  thumbnails: 'Making images',
  package: 'Packaging',
  catalog: 'Finishing',
};

export function stageLabel(stage) {
  return STAGE_LABELS[stage] ?? stage ?? '';
}

/** "Transcoding · 42%" for a video still processing. */
export function progressText(video) {
  if (video.status !== 'processing') return '';
  const p = video.progress;
  if (!p) return 'Queued';
  return `${stageLabel(p.stage)} · ${Math.round(p.percent)}%`;
}
