import type { Stats } from './fold.ts';

/** A label value as the Prometheus text format wants it: backslash, quote and newline escaped. */
const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>) => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

/** The stats in the Prometheus text exposition format (version 0.0.4). */
export function toPrometheus(s: Stats): string {
  const out: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge' | 'summary', help: string, samples: [Record<string, string>, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples) out.push(`${name}${labels(l)} ${Number.isFinite(v) ? v : 'NaN'}`);
  };
  metric('reel_uploads_total', 'counter', 'Videos uploaded.', [[{}, s.uploads]]);
  metric('reel_upload_retries_total', 'counter', "Owners' retries of failed videos.", [[{}, s.retries]]);
  metric('reel_ready_total', 'counter', 'Videos that became ready.', [[{}, s.ready]]);
  metric(
    'reel_failed_total',
    'counter',
    'Videos failed, by stage and code.',
    s.failed.byStageCode.map((f) => [{ stage: f.stage, code: f.code }, f.videos]),
  );
  metric('reel_deleted_total', 'counter', 'Videos deleted.', [[{}, s.deleted]]);
  const ttr = s.timeToReadySec;
  out.push('# HELP reel_time_to_ready_seconds Seconds from upload to ready.', '# TYPE reel_time_to_ready_seconds summary');
  out.push(`reel_time_to_ready_seconds{quantile="0.5"} ${ttr.p50 ?? 'NaN'}`, `reel_time_to_ready_seconds{quantile="0.95"} ${ttr.p95 ?? 'NaN'}`);
  out.push(`reel_time_to_ready_seconds_sum ${ttr.sum}`, `reel_time_to_ready_seconds_count ${ttr.count}`);
  const owners = Object.entries(s.owners).sort(([a], [b]) => (a < b ? -1 : 1));
  metric(
    'reel_owner_videos',
    'gauge',
    'Videos an owner has (deleted ones excluded).',
    owners.map(([o, v]) => [{ owner: o }, v.videos]),
  );
  metric(
    'reel_owner_video_minutes',
    'gauge',
    'Minutes of ready video an owner has.',
    owners.map(([o, v]) => [{ owner: o }, v.minutes]),
  );
  metric(
    'reel_owner_source_bytes',
    'gauge',
    'Bytes of source files an owner stores.',
    owners.map(([o, v]) => [{ owner: o }, v.bytes]),
  );
  if (s.views) {
    const views = Object.entries(s.views).sort(([a], [b]) => (a < b ? -1 : 1));
    metric(
      'reel_video_views_total',
      'counter',
      'Views per video.',
      views.map(([id, n]) => [{ video: id }, n]),
    );
  }
  return `${out.join('\n')}\n`;
}
