import { type Envelope, type EventData, makeEnvelope, registry, type Subject } from '@reel/events';
import { fixtures, VIDEO } from '../../../packages/events/test/fixtures.ts';

export { VIDEO };
export const T0 = Date.parse('2026-11-27T08:00:00.000Z');
export const at = (sec: number) => new Date(T0 + sec * 1000).toISOString();

/**
 * A valid event of the fixture video, `sec` seconds after T0; `data` overrides the fixture's fields
 * (an update starts from no field at all, so it carries only what `data` says).
 */
export function event<K extends Subject>(subject: K, sec: number, data: Partial<EventData<K>> = {}, id = `${subject}@${sec}`): Envelope {
  const base = subject === 'video.updated' ? { videoId: VIDEO, ownerId: 'u1' } : fixtures[subject].valid;
  return makeEnvelope(registry, subject, { ...base, ...data } as EventData<K>, { id, occurredAt: new Date(T0 + sec * 1000) });
}

/** A video uploaded through the gateway and processed to the end, as the services publish it. */
export function uploadedHistory(): Envelope[] {
  return [
    event('video.uploaded', 1, { title: 'Cat', visibility: 'private' }),
    event('video.ingested', 2),
    event('work.transcode.requested', 3),
    event('live.progress', 4, { stage: 'transcode', percent: 10 }),
    event('live.progress', 5, { stage: 'transcode', percent: 60 }),
    event('live.progress', 6, { stage: 'transcode', percent: 99 }),
    event('video.transcoded', 7),
    event('video.thumbnails.created', 8),
    event('video.playable', 9),
    event('video.packaged', 10),
    event('video.updated', 11, { title: 'Cat, renamed' }),
    event('video.updated', 12, { description: 'a cat', visibility: 'public' }),
  ];
}

/** A direct upload: announced (created) first, then its bytes arrive. */
export function createdHistory(): Envelope[] {
  return [event('video.created', 0, { title: 'Cat', visibility: 'private' }), ...uploadedHistory()];
}
