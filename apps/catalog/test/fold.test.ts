import type { Envelope } from '@reel/events';
import t from 'tap';
import { evolve, foldAll, statusOf, toRecord, type VideoState, withViews } from '../src/fold.ts';
import { at, createdHistory, event, uploadedHistory, VIDEO } from './history.ts';

/** given these events (folded in this order), when this one arrives */
const given = (...events: Envelope[]) => ({
  when: (...more: Envelope[]) => foldAll([...events, ...more]) as VideoState,
});
const record = (s: VideoState | undefined) => (s ? toRecord(s) : undefined);

t.test('created only: waiting for the upload, with its expiry, no attempt yet', async (t) => {
  const s = given().when(event('video.created', 0, { title: 'Cat' }));
  t.equal(statusOf(s), 'waiting_upload');
  t.equal(s.uploadExpiresAt?.value, '2026-11-23T16:00:00.000Z');
  t.match(record(s), { id: VIDEO, ownerId: 'u1', title: 'Cat', status: 'waiting_upload', createdAt: at(0), updatedAt: at(0) });
  t.notOk(record(s)?.attempt);
  t.notOk(record(s)?.progress, 'no progress before the bytes');
});

t.test('uploaded: processing from attempt 1, at the ingest stage, with where the bytes are', async (t) => {
  const v = record(given(event('video.created', 0)).when(event('video.uploaded', 1)));
  t.match(v, {
    status: 'processing',
    progress: { stage: 'ingest', percent: 0 },
    attempt: 1,
    sourceObject: { bucket: 'reel-sources', key: `sources/${VIDEO}/original`, size: 1234 },
    createdAt: at(0),
  });
  t.same(Object.keys(v?.sourceObject ?? {}).sort(), ['bucket', 'key', 'size'], 'only bucket, key and size');
});

t.test('the outage bug: packaged and thumbnails before uploaded still end ready', async (t) => {
  const early = given(event('video.thumbnails.created', 8)).when(event('video.packaged', 10));
  t.equal(record(early), undefined, 'not shown while its owner is unknown');
  t.equal(early.packaged?.value.master, `sources/${VIDEO}/original`, 'but the facts are kept');
  const v = record(evolve(early, event('video.uploaded', 1)));
  t.match(v, { status: 'ready', ownerId: 'u1', master: `sources/${VIDEO}/original`, images: { poster: 'p.jpg' }, durationSec: 10 });
  t.notOk(v?.progress, 'no progress once ready');
});

t.test('ready needs the master and the images (or their failure)', async (t) => {
  const packaged = given(event('video.uploaded', 1)).when(event('video.packaged', 10));
  t.equal(statusOf(packaged), 'processing', 'master alone: still making images');
  t.same(record(packaged)?.progress, { stage: 'thumbnails', percent: 0 });
  t.equal(statusOf(given(event('video.uploaded', 1)).when(event('video.thumbnails.created', 8))), 'processing', 'images alone: still packaging');
  const noImages = given(event('video.uploaded', 1), event('video.packaged', 10)).when(
    event('video.failed', 9, { stage: 'thumbnails', code: 'thumbnails_failed', message: 'no frame' }),
  );
  t.match(record(noImages), { status: 'ready', error: { stage: 'thumbnails', code: 'thumbnails_failed', message: 'no frame' } }, 'a video that plays is ready');
  const imagesAfterAll = evolve(noImages, event('video.thumbnails.created', 12));
  t.notOk(record(imagesAfterAll)?.error, 'images made on a later try hide the thumbnails error');
});

t.test('a failure fails the video with its code, stage and message, and hides progress', async (t) => {
  const v = record(
    given(event('video.uploaded', 1), event('live.progress', 4)).when(event('video.failed', 5, { stage: 'transcode', code: 'encode_failed', message: 'bad' })),
  );
  t.match(v, { status: 'failed', error: { code: 'encode_failed', stage: 'transcode', message: 'bad' } });
  t.notOk(v?.progress);
});

t.test('a failure that arrives before its upload still fails the video', async (t) => {
  const v = record(given(event('video.failed', 2)).when(event('video.uploaded', 1)));
  t.match(v, { status: 'failed', error: { code: 'not_a_video', stage: 'ingest' } });
});

t.test('two failures at the same instant: the one with the greater event id wins, in any order', async (t) => {
  const a = event('video.failed', 5, { code: 'aaa', message: 'a' }, 'id-a');
  const b = event('video.failed', 5, { code: 'bbb', message: 'b' }, 'id-b');
  const up = event('video.uploaded', 1);
  t.equal(record(given(up, a).when(b))?.error?.code, 'bbb');
  t.equal(record(given(up, b).when(a))?.error?.code, 'bbb');
});

t.test('the owner retries: a failure older than the newest attempt no longer counts', async (t) => {
  const failed = given(event('video.uploaded', 1), event('video.ingested', 2)).when(
    event('video.failed', 5, { stage: 'transcode', code: 'retries_exhausted', message: 'storage down' }),
  );
  t.equal(statusOf(failed), 'failed');
  const retried = evolve(failed, event('video.uploaded', 20, { attempt: 2 }));
  t.match(record(retried), { status: 'processing', attempt: 2, progress: { stage: 'ingest', percent: 0 } });
  t.notOk(record(retried)?.error, 'the old error is not shown');
  const again = evolve(retried, event('video.failed', 25, { stage: 'transcode', code: 'encode_failed', message: 'again' }));
  t.match(record(again), { status: 'failed', attempt: 2, error: { code: 'encode_failed' } }, 'a failure of the new attempt counts');
  const done = foldAll([event('video.packaged', 30), event('video.thumbnails.created', 29)], retried);
  t.equal(statusOf(done as VideoState), 'ready');
});

t.test('the highest attempt is current even when an older attempt’s upload is newer', async (t) => {
  const s = given(event('video.uploaded', 20, { attempt: 2 }, 'u2')).when(event('video.uploaded', 30, { attempt: 1 }, 'u1-late'));
  t.equal(s.upload?.value.attempt, 2);
  t.equal(record(s)?.attempt, 2);
});

t.test('a failure at the very instant of the current upload counts (a retry is always later than its failure)', async (t) => {
  t.equal(statusOf(given(event('video.uploaded', 5)).when(event('video.failed', 5))), 'failed');
});

t.test('ready wins over a stray failure: nothing runs after packaging', async (t) => {
  const ready = given(event('video.uploaded', 1), event('video.packaged', 10), event('video.thumbnails.created', 8));
  const v = record(ready.when(event('video.failed', 11, { stage: 'catalog', code: 'retries_exhausted', message: 'db down' })));
  t.equal(v?.status, 'ready');
  t.notOk(v?.error, 'no fatal error shown on a video that plays');
});

t.test('metadata: per field, the newest of created, uploaded and updated', async (t) => {
  const s = given(
    event('video.updated', 11, { title: 'Renamed' }),
    event('video.updated', 12, { visibility: 'public' }),
    event('video.uploaded', 1, { title: 'Cat', description: 'first', visibility: 'private' }),
  ).when(event('video.created', 0, { title: 'Draft', description: 'draft' }));
  t.match(record(s), { title: 'Renamed', description: 'first', visibility: 'public', createdAt: at(0), updatedAt: at(12) });
  const older = evolve(s, event('video.updated', 3, { title: 'Too late' }));
  t.equal(record(older)?.title, 'Renamed', 'an older update does not overwrite a newer one');
  const tie = evolve(s, event('video.updated', 11, { title: 'Same instant, greater id' }, 'video.updated@11-z'));
  t.equal(record(tie)?.title, 'Same instant, greater id');
});

t.test('progress: the newest tick, shown only while processing', async (t) => {
  const s = given(event('video.uploaded', 1), event('video.ingested', 2), event('live.progress', 6, { percent: 80 })).when(
    event('live.progress', 5, { percent: 50 }),
  );
  t.same(record(s)?.progress, { stage: 'transcode', percent: 80 }, 'a late, older tick does not move it back');
  t.notOk(record(evolve(s, event('video.failed', 7)))?.progress);
});

t.test('duration from packaging, else from the probe; source from the probe', async (t) => {
  const probed = given(event('video.uploaded', 1)).when(event('video.ingested', 2));
  t.match(record(probed), { durationSec: 10, source: { videoCodec: 'h264', width: 1920 } });
  t.equal(record(evolve(probed, event('video.packaged', 10, { durationSec: 9.96 })))?.durationSec, 9.96);
});

t.test('deleted: a tombstone that no later event revives, never shown', async (t) => {
  const full = foldAll(createdHistory()) as VideoState;
  const dead = evolve(full, event('video.deleted', 13));
  t.equal(statusOf(dead), 'deleted');
  t.equal(record(dead), undefined);
  t.same(dead, { v: 1, videoId: VIDEO, deleted: { at: at(13), id: 'video.deleted@13' } }, 'the facts are dropped');
  for (const late of [event('video.created', 0), event('video.uploaded', 20, { attempt: 2 }), event('video.packaged', 30), event('video.updated', 40)]) {
    t.equal(evolve(dead, late), dead, `${late.type} changes nothing`);
  }
  t.same(evolve(dead, event('video.deleted', 5, {}, 'earlier-delete')).deleted, { at: at(5), id: 'earlier-delete' }, 'the earliest deletion is kept');
  t.equal(statusOf(given(event('video.deleted', 13)).when(...createdHistory())), 'deleted', 'a delete that came first wins too');
});

t.test('repeating an event changes nothing', async (t) => {
  for (const e of createdHistory()) {
    const once = foldAll(createdHistory());
    t.same(evolve(once, e), once, e.type);
  }
});

t.test('updatedAt is the newest occurredAt of any event', async (t) => {
  t.equal(record(foldAll([...uploadedHistory()].reverse()))?.updatedAt, at(12));
});

t.test('what the fold does not know leaves the state as it is', async (t) => {
  const s = foldAll(uploadedHistory()) as VideoState;
  const unknown = { id: 'x', type: 'video.rated', version: 1, occurredAt: at(50), data: { videoId: VIDEO } };
  t.equal(evolve(s, unknown), s, 'an unknown subject');
  t.equal(evolve(undefined, unknown), undefined, 'an unknown subject on nothing');
  const ready = event('video.ready', 50);
  t.equal(evolve(s, ready), s, 'video.ready, the catalog’s own output');
  t.equal(evolve(undefined, ready), undefined, 'video.ready on nothing');
  const packaged = event('video.packaged', 60);
  t.equal(evolve(s, { ...packaged, data: { ...(packaged.data as object), videoId: '00000000-0000-4000-8000-000000000000' } }), s, 'another video');
  t.equal(evolve(s, { ...event('live.progress', 60), occurredAt: '2026-11-27Tnonsense' }), s, 'an unreadable occurredAt');
});

t.test('an occurredAt in another offset is the same instant', async (t) => {
  const e = event('live.progress', 6, { percent: 77 });
  const shifted = { ...e, id: 'shifted', occurredAt: '2026-11-27T09:00:06.000+01:00' };
  t.equal(foldAll([event('video.uploaded', 1), shifted])?.progress?.at, at(6));
});

t.test('playable while processing: the early master plays before packaging ends', async (t) => {
  const s = given(event('video.uploaded', 1), event('video.ingested', 2)).when(event('video.playable', 6));
  t.match(record(s), { status: 'processing', playable: true, master: `sources/${VIDEO}/original`, progress: { stage: 'transcode' } });
  t.notOk(record(s)?.renditions, 'renditions come with packaging');
  const packaged = evolve(s, event('video.packaged', 10));
  t.match(record(packaged), { status: 'processing', playable: true }, 'still playable while the images are made');
  t.match(record(evolve(packaged, event('video.thumbnails.created', 11))), { status: 'ready', playable: true });
  t.notOk(record(given(event('video.uploaded', 1)).when(event('video.ingested', 2)))?.playable, 'not before video.playable');
});

t.test('playable before its upload is shown once the owner is known', async (t) => {
  const early = given(event('video.playable', 6)).when(event('live.progress', 5));
  t.equal(record(early), undefined);
  t.match(record(evolve(early, event('video.uploaded', 1))), { status: 'processing', playable: true });
});

t.test('a failed video is not playable; a retry starts unplayable again', async (t) => {
  const failed = given(event('video.uploaded', 1), event('video.playable', 6)).when(
    event('video.failed', 7, { stage: 'transcode', code: 'encode_failed', message: 'chunk 3' }),
  );
  t.match(record(failed), { status: 'failed' });
  t.notOk(record(failed)?.playable);
  t.notOk(record(failed)?.master, 'no master to start on');
  const retried = evolve(failed, event('video.uploaded', 20, { attempt: 2 }));
  t.match(record(retried), { status: 'processing', attempt: 2 });
  t.notOk(record(retried)?.playable, 'the old attempt’s playlist does not count');
  t.match(record(evolve(retried, event('video.playable', 25, {}, 'p2'))), { playable: true }, 'the new attempt’s does');
});

t.test('views: counted beside the fold, shown on the record, gone with the video', async (t) => {
  const s = foldAll(uploadedHistory()) as VideoState;
  t.equal(evolve(s, event('video.viewed', 50)), s, 'the fold itself leaves a view alone (updatedAt too)');
  t.notOk(record(s)?.views, 'no views: none shown');
  const viewed = withViews(s, 3);
  t.equal(record(viewed)?.views, 3);
  t.equal(withViews(viewed, 3), viewed, 'the same count changes nothing');
  t.equal(record(evolve(viewed, event('video.updated', 60, { title: 'x' })))?.views, 3, 'later facts keep the count');
  const dead = evolve(viewed, event('video.deleted', 70));
  t.equal(withViews(dead, 4), dead, 'a tombstone counts nothing');
});
