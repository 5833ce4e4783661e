import { type Envelope, type EventData, makeEnvelope, registry, type Subject } from '@reel/events';
import t from 'tap';
import { type AnalyticsState, emptyState, foldEvent, percentile, statsOf } from '../src/fold.ts';
import { toPrometheus } from '../src/prometheus.ts';

const T0 = Date.parse('2026-11-27T08:00:00.000Z');
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const A = uuid(1);
const B = uuid(2);
const C = uuid(3);
const D = uuid(4);
let n = 0;
const ev = <K extends Subject>(subject: K, sec: number, data: EventData<K>): Envelope =>
  makeEnvelope(registry, subject, data, { id: `e${++n}`, occurredAt: new Date(T0 + sec * 1000) });
const meta = (videoId: string, ownerId: string) => ({ videoId, ownerId, title: 't', description: '', visibility: 'private' as const });
const uploaded = (videoId: string, ownerId: string, sec: number, size: number, attempt?: number) =>
  ev('video.uploaded', sec, { ...meta(videoId, ownerId), source: { bucket: 'src', key: `sources/${videoId}`, size }, ...(attempt ? { attempt } : {}) });
const rendition = { name: '360p', width: 640, height: 360, bandwidth: 900_000, averageBandwidth: 800_000, codecs: 'avc1', frameRate: 30, playlist: 'p' };
const ready = (videoId: string, ownerId: string, sec: number, durationSec: number, attempt = 1) =>
  ev('video.ready', sec, { videoId, ownerId, attempt, durationSec, master: `videos/${videoId}/master.m3u8`, renditions: [rendition] });
const failed = (videoId: string, sec: number, stage: 'ingest' | 'transcode', code: string) => ev('video.failed', sec, { videoId, stage, code, message: 'no' });

/** A: ready in 10 s. B: failed at ingest, retried, ready 30 s after the retry. C: not a video. D: ready, then deleted. */
const history: Envelope[] = [
  uploaded(A, 'ann', 0, 1000),
  ev('live.progress', 2, { videoId: A, stage: 'transcode', percent: 50 }),
  ready(A, 'ann', 10, 90),
  uploaded(B, 'bob', 0, 5000),
  failed(B, 3, 'transcode', 'encode_failed'),
  uploaded(B, 'bob', 100, 5000, 2),
  ready(B, 'bob', 130, 30, 2),
  uploaded(C, 'ann', 5, 42),
  failed(C, 6, 'ingest', 'not_a_video'),
  uploaded(D, 'bob', 0, 7),
  ready(D, 'bob', 20, 60),
  ev('video.deleted', 50, { videoId: D, ownerId: 'bob' }),
];

t.test('the numbers of a history', async (t) => {
  const s = statsOf(history.reduce(foldEvent, emptyState()));
  t.same(s, {
    uploads: 4,
    retries: 1,
    ready: 3,
    failed: {
      total: 2,
      byStageCode: [
        { stage: 'ingest', code: 'not_a_video', videos: 1 },
        { stage: 'transcode', code: 'encode_failed', videos: 1 },
      ],
    },
    deleted: 1,
    timeToReadySec: { count: 3, sum: 60, p50: 20, p95: 30 },
    owners: { ann: { videos: 2, minutes: 1.5, bytes: 1042 }, bob: { videos: 1, minutes: 0.5, bytes: 5000 } },
  });
  t.notOk('views' in s, 'no video.viewed subject: no views');
});

t.test('any order, any repetition: the same numbers', async (t) => {
  const want = statsOf(history.reduce(foldEvent, emptyState()));
  let seed = 7;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < 500; i++) {
    const events = [...history, ...history.filter(() => rand() < 0.3)];
    for (let j = events.length - 1; j > 0; j--) {
      const k = Math.floor(rand() * (j + 1));
      [events[j], events[k]] = [events[k] as Envelope, events[j] as Envelope];
    }
    const got = statsOf(events.reduce(foldEvent, emptyState()));
    // byte-equal JSON: the same numbers, and in the same order
    if (JSON.stringify(got) !== JSON.stringify(want)) return t.fail(`shuffle ${i}: ${JSON.stringify(got)}`);
  }
  t.pass('500 shuffles with repeats agree');
});

t.test('what the fold does not count leaves the state as it is', async (t) => {
  const s = history.reduce(foldEvent, emptyState());
  t.equal(foldEvent(s, ev('live.progress', 1, { videoId: A, stage: 'ingest', percent: 1 })), s);
  t.equal(foldEvent(s, { ...(history[0] as Envelope), occurredAt: 'yesterday' }), s);
  t.equal(foldEvent(s, { id: 'x', type: 'video.other', version: 1, occurredAt: new Date(T0).toISOString(), data: {} }), s);
});

t.test('views, once a video.viewed subject exists: one per event id', async (t) => {
  const view = (id: string) => ({ id, type: 'video.viewed', version: 1, occurredAt: new Date(T0).toISOString(), data: { videoId: A } });
  const s = [view('v1'), view('v2'), view('v1')].reduce<AnalyticsState>(foldEvent, history.reduce(foldEvent, emptyState()));
  t.same(statsOf(s, { viewsKnown: true }).views, { [A]: 2 });
});

t.test('percentiles are nearest-rank', async (t) => {
  t.equal(percentile([], 50), null);
  t.equal(percentile([5], 95), 5);
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  t.equal(percentile(hundred, 50), 50);
  t.equal(percentile(hundred, 95), 95);
});

t.test('Prometheus text', async (t) => {
  const text = toPrometheus(statsOf(history.reduce(foldEvent, emptyState())));
  t.match(text, /^# TYPE reel_uploads_total counter\nreel_uploads_total 4$/m);
  t.match(text, /^reel_failed_total\{stage="ingest",code="not_a_video"\} 1$/m);
  t.match(text, /^reel_time_to_ready_seconds\{quantile="0.95"\} 30$/m);
  t.match(text, /^reel_owner_source_bytes\{owner="ann"\} 1042$/m);
  t.match(text, /^reel_owner_video_minutes\{owner="bob"\} 0.5$/m);
  t.notMatch(text, /views/);
  const odd = toPrometheus({ ...statsOf(emptyState()), owners: { 'a"b\\c\nd': { videos: 1, minutes: 0, bytes: 1 } } });
  t.match(odd, 'reel_owner_videos{owner="a\\"b\\\\c\\nd"} 1', 'label values escaped');
  t.match(toPrometheus(statsOf(emptyState())), /^reel_time_to_ready_seconds\{quantile="0.5"\} NaN$/m, 'no sample yet: NaN');
});
