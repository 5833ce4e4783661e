import type { EventData, Subject } from '../src/mod.ts';
import { probeOf, rungOf } from '@reel/testing';

export const VIDEO = '6f1c2d3e-4a5b-4c7d-8e9f-0a1b2c3d4e5f';
const rung = rungOf('720p', 1280, 720, { videoBitrate: 2_800_000, maxrate: 4_200_000, bufsize: 5_600_000, audioBitrate: 128_000 });
const probe = probeOf();
const chunk = { index: 0, count: 1, startSec: 0, durationSec: 10 };
const src = { bucket: 'reel-sources', key: `sources/${VIDEO}/original` };

/** One valid and one invalid payload per subject: a subject added without fixtures fails to compile. */
export const fixtures: { [K in Subject]: { valid: EventData<K>; invalid: unknown } } = {
  'video.created': {
    valid: {
      videoId: VIDEO,
      ownerId: 'u1',
      title: 'Cat',
      description: '',
      visibility: 'public',
      upload: { method: 'presigned', expiresAt: '2026-11-23T16:00:00.000Z' },
    },
    invalid: { videoId: VIDEO, ownerId: 'u1', title: 'Cat', description: '', visibility: 'public', upload: { method: 'ftp', expiresAt: 'tomorrow' } },
  },
  'video.updated': {
    valid: { videoId: VIDEO, ownerId: 'u1', title: 'New title' },
    invalid: { videoId: VIDEO, ownerId: 'u1', title: 'x'.repeat(201) },
  },
  'video.uploaded': {
    valid: { videoId: VIDEO, ownerId: 'u1', title: 'Cat', description: '', visibility: 'private', source: { ...src, size: 1234, filename: 'cat.mp4' } },
    invalid: { videoId: VIDEO, ownerId: 'u1', title: 'Cat', description: '', visibility: 'secret', source: { ...src, size: -1 } },
  },
  'video.ingested': {
    valid: { videoId: VIDEO, source: src, probe, ladder: [rung], chunks: [chunk], segmentSec: 4 },
    invalid: { videoId: VIDEO, source: src, probe, ladder: [], chunks: [chunk], segmentSec: 4 },
  },
  'work.transcode.requested': {
    valid: { videoId: VIDEO, source: src, chunk, ladder: [rung], audio: true, segmentSec: 4 },
    invalid: { videoId: VIDEO, source: src, chunk, ladder: [{ ...rung, width: 1281 }], audio: true, segmentSec: 4 },
  },
  'video.transcoded': {
    valid: {
      videoId: VIDEO,
      chunk,
      renditions: [{ rung, codecs: 'avc1.64001f,mp4a.40.2', segments: [{ key: `videos/${VIDEO}/hls/720p/seg-0000-00000.ts`, durationSec: 4, bytes: 100 }] }],
      manifest: { bucket: 'reel-sources', key: `work/${VIDEO}/chunk-0000.json` },
    },
    invalid: { videoId: VIDEO, chunk, renditions: [], manifest: src },
  },
  'work.audio.requested': {
    valid: { videoId: VIDEO, source: src, bitrate: 128_000, segmentSec: 4, durationSec: 60 },
    invalid: { videoId: VIDEO, source: src, bitrate: 0, segmentSec: 4, durationSec: 60 },
  },
  'video.audio.transcoded': {
    valid: {
      videoId: VIDEO,
      codecs: 'mp4a.40.2',
      bitrate: 128_000,
      segments: [{ key: `videos/${VIDEO}/hls/audio/seg-00000.ts`, durationSec: 4, bytes: 100 }],
      complete: true,
      manifest: { bucket: 'reel-sources', key: `work/${VIDEO}/audio.json` },
    },
    invalid: { videoId: VIDEO, codecs: 'mp4a.40.2', bitrate: 128_000, segments: [], complete: true, manifest: src },
  },
  'video.thumbnails.created': {
    valid: {
      videoId: VIDEO,
      bucket: 'reel-media',
      poster: 'p.jpg',
      thumbnails: ['t.jpg'],
      storyboard: { image: 's.jpg', vtt: 's.vtt', columns: 10, rows: 1, intervalSec: 1 },
    },
    invalid: { videoId: VIDEO, bucket: 'reel-media', poster: 'p.jpg', thumbnails: 't.jpg' },
  },
  'live.progress': { valid: { videoId: VIDEO, stage: 'transcode', percent: 42 }, invalid: { videoId: VIDEO, stage: 'transcode', percent: 420 } },
  'video.playable': { valid: { videoId: VIDEO, master: src }, invalid: { videoId: VIDEO } },
  'video.packaged': {
    valid: {
      videoId: VIDEO,
      master: src,
      durationSec: 10,
      renditions: [
        { name: '720p', width: 1280, height: 720, bandwidth: 3_000_000, averageBandwidth: 2_900_000, codecs: 'avc1.64001f', frameRate: 30, playlist: 'x' },
      ],
    },
    invalid: { videoId: VIDEO, master: src, durationSec: 10, renditions: [{ name: '720p' }] },
  },
  'video.ready': {
    valid: {
      videoId: VIDEO,
      ownerId: 'u1',
      attempt: 1,
      durationSec: 10,
      master: `videos/${VIDEO}/hls/master.m3u8`,
      renditions: [
        { name: '720p', width: 1280, height: 720, bandwidth: 3_000_000, averageBandwidth: 2_900_000, codecs: 'avc1.64001f', frameRate: 30, playlist: 'x' },
      ],
      poster: `videos/${VIDEO}/poster.jpg`,
    },
    invalid: { videoId: VIDEO, ownerId: 'u1', attempt: 0, durationSec: 10, master: '', renditions: [] },
  },
  'video.failed': {
    valid: { videoId: VIDEO, stage: 'ingest', code: 'not_a_video', message: 'the file is a still image' },
    invalid: { videoId: VIDEO, stage: 'somewhere', code: 'Not A Code!', message: 'x' },
  },
  'video.deleted': { valid: { videoId: VIDEO, ownerId: 'u1' }, invalid: { videoId: 'not-a-uuid', ownerId: 'u1' } },
  'video.viewed': {
    valid: { videoId: VIDEO, ownerId: 'u1', viewer: '0123456789abcdef0123456789abcdef' },
    invalid: { videoId: VIDEO, ownerId: 'u1', viewer: 'alice' },
  },
};
