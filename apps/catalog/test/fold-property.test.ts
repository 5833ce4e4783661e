import { isDeepStrictEqual } from 'node:util';
import type { Envelope } from '@reel/events';
import t from 'tap';
import { foldAll, toRecord, type VideoState } from '../src/fold.ts';
import { createdHistory, event, uploadedHistory } from './history.ts';

/** Deterministic pseudo-random numbers (mulberry32): a failure names its seed and can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function* permutations<T>(items: readonly T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const p of permutations(rest)) yield [items[i] as T, ...p];
  }
}

/** A random order of the events, each one there 1 to 3 times. */
function shuffledWithRepeats(events: readonly Envelope[], random: () => number): Envelope[] {
  const out = events.flatMap((e) => Array.from({ length: 1 + Math.floor(random() * random() * 3) }, () => e));
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as Envelope, out[i] as Envelope];
  }
  return out;
}

/** The state stored as jsonb and read back, half way through. */
const viaJson = (events: Envelope[], cut: number) => foldAll(events.slice(cut), JSON.parse(JSON.stringify(foldAll(events.slice(0, cut)) ?? null)) ?? undefined);

const histories: Record<string, Envelope[]> = {
  'gateway upload, processed to the end': uploadedHistory(),
  'direct upload (created first)': createdHistory(),
  'thumbnails failed': createdHistory()
    .filter((e) => e.type !== 'video.thumbnails.created')
    .concat(event('video.failed', 8, { stage: 'thumbnails', code: 'thumbnails_failed', message: 'no frame' })),
  'failed, retried, ready': [
    event('video.uploaded', 1),
    event('video.ingested', 2),
    event('work.transcode.requested', 3),
    event('live.progress', 4, { percent: 30 }),
    event('video.failed', 5, { stage: 'transcode', code: 'retries_exhausted', message: 'storage down' }),
    event('video.uploaded', 20, { attempt: 2 }),
    event('video.ingested', 21),
    event('work.transcode.requested', 22),
    event('live.progress', 23, { percent: 50 }),
    event('video.transcoded', 24),
    event('video.thumbnails.created', 25),
    event('video.playable', 26),
    event('video.packaged', 27),
  ],
  'failed, retried, failed again': [
    event('video.uploaded', 1),
    event('video.failed', 5, { stage: 'transcode', code: 'retries_exhausted', message: 'first' }),
    event('video.uploaded', 20, { attempt: 2 }),
    event('video.ingested', 21),
    event('live.progress', 23, { percent: 50 }),
    event('video.failed', 24, { stage: 'transcode', code: 'encode_failed', message: 'second' }),
  ],
  'playable while processing': [
    event('video.uploaded', 1),
    event('video.ingested', 2),
    event('work.transcode.requested', 3),
    event('live.progress', 4, { percent: 30 }),
    event('video.transcoded', 5),
    event('video.playable', 6),
    event('live.progress', 7, { percent: 60 }),
  ],
  'deleted mid-transcode': createdHistory()
    .slice(0, 6)
    .concat(event('video.deleted', 6), ...createdHistory().slice(6)),
};

const expected: Record<string, object | undefined> = {
  'gateway upload, processed to the end': { status: 'ready', playable: true, title: 'Cat, renamed', description: 'a cat', visibility: 'public', attempt: 1 },
  'direct upload (created first)': { status: 'ready', title: 'Cat, renamed', description: 'a cat', visibility: 'public', attempt: 1 },
  'thumbnails failed': { status: 'ready', error: { stage: 'thumbnails' } },
  'failed, retried, ready': { status: 'ready', attempt: 2 },
  'failed, retried, failed again': { status: 'failed', attempt: 2, error: { code: 'encode_failed', message: 'second' } },
  'playable while processing': { status: 'processing', playable: true, progress: { stage: 'transcode', percent: 60 } },
  'deleted mid-transcode': undefined,
};

for (const [name, history] of Object.entries(histories)) {
  t.test(`${name}: any order, any repetition, the same record`, async (t) => {
    const reference = foldAll(history) as VideoState;
    const want = toRecord(reference);
    if (expected[name]) t.match(want, expected[name], 'in publication order it ends as expected');
    else t.equal(want, undefined, 'in publication order it is not shown');

    // every permutation of the events that change what is shown (one progress tick of them), the rest after them
    const lastTick = history.findLast((e) => e.type === 'live.progress');
    const quiet = ['work.transcode.requested', 'video.transcoded', 'live.progress'];
    // (8 events: 40 320 orders; 9 would be 362 880, too slow for a shared 2-core machine)
    const core = history.filter((e) => e === lastTick || !quiet.includes(e.type)).slice(0, 8);
    const others = history.filter((e) => !core.includes(e));
    let checked = 0;
    let first: string | undefined;
    for (const p of permutations(core)) {
      const s = foldAll([...p, ...others]);
      checked++;
      if (!first && !isDeepStrictEqual(s, reference)) first = p.map((e) => e.id).join(' ');
    }
    t.equal(first, undefined, `all ${checked} permutations of ${core.length} events give the same state`);

    // the whole history: random orders with repeats, and the state stored as JSON half way
    const seed = 0x5eed + history.length;
    const random = rng(seed);
    let bad: string | undefined;
    const runs = 3000;
    for (let i = 0; i < runs && !bad; i++) {
      const order = shuffledWithRepeats(history, random);
      const s = foldAll(order);
      const stored = viaJson(order, Math.floor(random() * order.length));
      if (!isDeepStrictEqual(s, reference) || !isDeepStrictEqual(toRecord(stored as VideoState), want)) {
        bad = `seed ${seed} run ${i}: ${order.map((e) => e.id).join(' ')}`;
      }
    }
    t.equal(bad, undefined, `${runs} shuffles with repeats of ${history.length} events give the same state and record`);
  });
}
