import { rm } from 'node:fs/promises';
import { type AudioManifest, type EventData, type HandlerContext, PermanentError, Subjects } from '@reel/events';
import { isFfmpegError } from '@reel/media';
import { keys } from '@reel/storage';
import { isNatsOutage, persist } from '../persist.ts';
import { segmentSink } from '../segment-sink.ts';
import { makeWorkDir } from '../work-dir.ts';
import type { TranscodeDeps } from './transcode-requested.ts';

/** AAC-LC, the only audio codec Reel writes. */
const AAC = 'mp4a.40.2';
/** CPU priority of the audio (nice): its first segments need little CPU; the rest yields to the first chunk. */
const AUDIO_NICENESS = 10;

/**
 * work.audio.requested → the source's audio, read through a presigned URL and encoded once into
 * the HLS audio rendition every rung shares. Segments are stored as ffmpeg finishes them, with a
 * manifest of what is stored so far; the first ones are announced at once (`complete: false`) so
 * the packager can make the video playable long before its audio is done; then the whole
 * rendition (`complete: true`). Failure handling as for a chunk: only the media's own faults are
 * permanent.
 */
export function createAudioHandler(deps: TranscodeDeps) {
  return async (d: EventData<'work.audio.requested'>, ctx: HandlerContext): Promise<void> => {
    const { storage } = deps;
    const dir = await makeWorkDir(deps.workDir, 'audio');
    const keep = { signal: ctx.signal, log: ctx.log, working: ctx.working, budgetMs: deps.persistBudgetMs };
    const manifest = { bucket: storage.sourceBucket, key: keys.audioManifest(d.videoId) };
    const sink = segmentSink({ dir, storage, keyOf: (n) => keys.audioSegment(d.videoId, n), keep });
    let announced = 0;

    /** Stores what ffmpeg has finished, then the manifest of all so far; announces the first ones and the whole. */
    const store = async (complete: boolean) => {
      await sink.flush();
      // a segment of no length is what a cut-off read leaves (ffmpeg exits 0 on it): not audio,
      // and nothing after it is announced
      const empty = sink.segments.findIndex((s) => s.durationSec <= 0);
      const count = empty < 0 ? sink.segments.length : empty;
      if (count === 0) {
        if (complete) throw new PermanentError('transcode_failed', 'ffmpeg produced no audio segments');
        return;
      }
      if (!complete && count === announced) return;
      const segments = sink.segments.slice(0, count).map(({ file: _f, ...s }) => s);
      const rendition: AudioManifest = { codecs: AAC, bitrate: d.bitrate, segments, complete };
      await persist('audio manifest', () => storage.putText(manifest.bucket, manifest.key, JSON.stringify(rendition), 'application/json'), keep);
      if (complete || announced === 0) {
        const id = `${ctx.envelope.id}.${complete ? 'done' : 'first'}`;
        await persist(
          'video.audio.transcoded',
          () => deps.publisher.publish(Subjects.audioTranscoded, { videoId: d.videoId, ...rendition, manifest }, { id }),
          {
            ...keep,
            isTransient: isNatsOutage,
          },
        );
      }
      announced = count;
    };

    // one store at a time, in order; ffmpeg's progress reports (about twice a second) drive it
    let storing: Promise<void> = Promise.resolve();
    const next = (complete: boolean) => {
      storing = storing.then(() => store(complete));
      return storing;
    };
    try {
      const input = await storage.presignGet(d.source.bucket, d.source.key, 3600);
      try {
        await deps.media.encodeAudio({
          input,
          bitrate: d.bitrate,
          segmentSec: d.segmentSec,
          outDir: dir,
          signal: ctx.signal,
          niceness: AUDIO_NICENESS,
          attributes: { 'reel.video.id': d.videoId, 'reel.media.duration_sec': d.durationSec },
          onProgress: () => {
            next(false).catch(() => {}); // a failure here surfaces from the final store below
          },
        });
      } catch (err) {
        await storing.catch(() => {});
        if (isFfmpegError(err)) throw new PermanentError('transcode_failed', err.message, { cause: err });
        throw err;
      }
      await next(true);
      ctx.log.info({ segments: sink.segments.length }, 'audio encoded');
    } finally {
      await storing.catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  };
}
