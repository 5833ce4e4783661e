// Integration: the real catalog (bootService + buildApp) with its stall sweep at test speed. A video
// whose work item waits in WORK is left processing however long it waits; once its work is lost (an
// operator purges the queue) and nothing anywhere is left to move it, it ends `failed` as `stalled`.
import { type EventData, getVideoQuery, request, type Subject, WORK_STREAM } from '@reel/events';
import { until } from '@reel/stack';
import t from 'tap';
import { fixtures } from '../../../packages/events/test/fixtures.ts';
import { bootCatalog } from './boot.ts';

const QUIET_SEC = 5;
const { nc, publisher, jsm } = await bootCatalog(t, { STALL_AFTER_SEC: String(QUIET_SEC), UPLOAD_SWEEP_INTERVAL_SEC: '1' });

const ID = '5b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e';
const publish = <K extends Subject>(subject: K, data: Partial<EventData<K>> = {}) =>
  publisher.publish(subject, { ...fixtures[subject].valid, videoId: ID, ...data } as EventData<K>);
const get = () => request(nc, getVideoQuery, { id: ID, viewer: fixtures['video.uploaded'].valid.ownerId });

t.test('a queued video is never failed; one whose work is lost ends failed as stalled', async (t) => {
  await publish('video.uploaded');
  await publish('work.transcode.requested');
  await until('processing', async () => (await get()).status === 'processing', { timeoutMs: 15_000, retryErrors: true });

  // queued: quiet for three times the stall time, but its work item is in WORK
  await new Promise((r) => setTimeout(r, QUIET_SEC * 3 * 1000));
  t.equal((await get()).status, 'processing', `still processing after ${QUIET_SEC * 3} s queued (stall time ${QUIET_SEC} s)`);

  // the work is lost: nothing anywhere can move the video now
  await jsm.streams.purge(WORK_STREAM);
  const lostAt = Date.now();
  await until('failed', async () => (await get()).status === 'failed', { timeoutMs: 30_000, retryErrors: true });
  const video = await get();
  t.equal(video.error?.code, 'stalled', 'failed as stalled');
  t.match(video.error?.message, /processing stopped \(.+\) \d+ (s|min) ago with no work left for it; retry the video/, `says why: ${video.error?.message}`);
  t.comment(`failed ${((Date.now() - lostAt) / 1000).toFixed(1)} s after its work was lost`);
});
