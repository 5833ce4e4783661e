import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Chunk,
  type ChunkManifest,
  type ChunkRendition,
  type EventData,
  type HandlerContext,
  isVideoDeletedError,
  PermanentError,
  type Publisher,
  Subjects,
} from '@reel/events';
import { isFfmpegError, KEYFRAME_SEC, type Media, segmentsAlign } from '@reel/media';
import { keys, type Storage } from '@reel/storage';
import { storeImages } from '../images.ts';
import { codecsFor } from '../rendition.ts';
import { segmentSink } from '../segment-sink.ts';
import { isNatsOutage, persist } from '../persist.ts';
import { makeWorkDir } from '../work-dir.ts';

export interface TranscodeDeps {
  storage: Storage;
  publisher: Publisher;
  media: Media;
  workDir?: string;
  /** How long finished segments wait out a storage outage before the work item is retried. */
  persistBudgetMs?: number;
  /** CPU priority of every chunk but the first (TRANSCODE_LATER_NICENESS; default 19). */
  laterNiceness?: number;
}

/**
 * Default CPU priority of every chunk but the first (nice 19): they use only what the first chunk
 * leaves idle. At nice 5 the next chunk still took ~1/4 of the cores from it (first playable 6.8 s
 * against 5.7 s at 19, four uploads each, 17:50 UTC); no CPU is left idle either way. Work that is
 * not the transcoder's at nice 0 on the same cores takes ~98 % from them, though.
 */
const LATER_CHUNK_NICENESS = 19;

/** "chunk 3 of 51 (36–48 s): " before a failure of one chunk of several; nothing for a one-piece video. */
const chunkName = (c: Chunk) => (c.count > 1 ? `chunk ${c.index} of ${c.count} (${c.startSec}–${c.startSec + c.durationSec} s): ` : '');

/**
 * work.transcode.requested → one ffmpeg run (one decode, every rung and the images that fall in the chunk) on a local copy of the
 * source (a one-chunk video) or on the chunk's range of it, read through a presigned URL; segments stored under deterministic keys as ffmpeg finishes them, a
 * chunk manifest written, then
 * video.transcoded. Temp files are removed whatever happens; ffmpeg is killed when the handler is
 * aborted (shutdown, timeout, the video deleted). Only the media's own faults are permanent; a
 * storage outage after the encode is waited out (persist) rather than re-encoding.
 */
export function createTranscodeHandler(deps: TranscodeDeps) {
  return async (d: EventData<'work.transcode.requested'>, ctx: HandlerContext): Promise<void> => {
    if (!segmentsAlign(d.segmentSec)) {
      // segments cut between keyframes would not line up across rungs: a broken work item, not a retry
      throw new PermanentError('transcode_failed', `segments of ${d.segmentSec} s do not start on keyframes every ${KEYFRAME_SEC} s`);
    }
    const dir = await makeWorkDir(deps.workDir, 'transcode');
    const keep = { signal: ctx.signal, log: ctx.log, working: ctx.working, budgetMs: deps.persistBudgetMs };
    try {
      // a chunk of several reads only its own range, seeking on the source where it lies
      const source = d.chunk.count > 1 ? await deps.storage.presignGet(d.source.bucket, d.source.key, 3600) : join(dir, 'source');
      if (d.chunk.count === 1) await deps.storage.download(d.source.bucket, d.source.key, source);
      const outDir = join(dir, 'out');
      await Promise.all([...d.ladder.map((_, i) => String(i)), 'images'].map((sub) => mkdir(join(outDir, sub), { recursive: true })));
      // every rung's segments stored as ffmpeg finishes them
      const sinks = d.ladder.map((rung, i) =>
        segmentSink({ dir: join(outDir, String(i)), storage: deps.storage, keyOf: (n) => keys.segment(d.videoId, rung.name, d.chunk.index, n), keep }),
      );
      const flushAll = () => Promise.all(sinks.map((s) => s.flush()));
      let lastReport = 0;
      const started = Date.now();
      try {
        await deps.media.encodeLadder({
          input: source,
          ladder: d.ladder,
          chunk: d.chunk,
          audio: d.audio,
          segmentSec: d.segmentSec,
          outDir,
          ...(d.images ? { images: d.images } : {}),
          signal: ctx.signal,
          // a video's first chunk is what a viewer waits for: later chunks yield it the cores
          niceness: d.chunk.index === 0 ? 0 : (deps.laterNiceness ?? LATER_CHUNK_NICENESS),
          attributes: {
            'reel.video.id': d.videoId,
            'reel.chunk.index': d.chunk.index,
            'reel.rungs': d.ladder.map((r) => r.name).join(','),
            'reel.media.duration_sec': d.chunk.durationSec,
          },
          onProgress: (sec) => {
            flushAll().catch(() => {}); // a failure here surfaces from the last flush below
            if (Date.now() - lastReport < 2000) return;
            lastReport = Date.now();
            // chunks are requested (and mostly finish) in index order
            const done = (d.chunk.index + Math.min(sec, d.chunk.durationSec) / d.chunk.durationSec) / d.chunk.count;
            deps.publisher
              .publish(Subjects.progress, { videoId: d.videoId, stage: 'transcode', percent: Math.min(99, Math.round(done * 100)) })
              .catch((err) => {
                if (!isVideoDeletedError(err)) ctx.log.warn({ err }, 'progress not published');
              });
          },
        });
      } catch (err) {
        await flushAll().catch(() => {});
        if (isFfmpegError(err)) throw new PermanentError('transcode_failed', `${chunkName(d.chunk)}${err.message}`, { cause: err });
        throw err;
      }
      await flushAll();
      const seconds = (Date.now() - started) / 1000;
      ctx.log.info({ seconds, speed: Math.round((d.chunk.durationSec / seconds) * 100) / 100, rungs: d.ladder.length }, 'chunk encoded');
      // the rungs' levels (one ffprobe each) and the images' uploads, all at once: a viewer waits on this for chunk 0
      const [renditions, images] = await Promise.all([
        Promise.all(
          d.ladder.map(async (rung, i): Promise<ChunkRendition> => {
            const stored = sinks[i]?.segments ?? [];
            if (stored.length === 0) throw new PermanentError('transcode_failed', `${chunkName(d.chunk)}ffmpeg produced no segments for ${rung.name}`);
            const level = await deps.media.h264Level(stored[0]?.file ?? '', ctx.signal);
            return { rung, codecs: codecsFor(level, d.audio), segments: stored.map(({ file: _f, ...seg }) => seg) };
          }),
        ),
        // the poster, thumbnails and storyboard tiles that fell in this chunk, from the same decode
        d.images
          ? storeImages(join(outDir, 'images'), d.images, { videoId: d.videoId, chunk: d.chunk.index }, deps.storage, keep).then((images) => ({ images }))
          : {},
      ]);
      const manifest = { bucket: deps.storage.sourceBucket, key: keys.chunkManifest(d.videoId, d.chunk.index) };
      const audioGroup = d.audioGroup ? { audioGroup: true } : {};
      const attempt = d.attempt ? { attempt: d.attempt } : {};
      const body = JSON.stringify({ chunk: d.chunk, renditions, ...audioGroup, ...images, ...attempt } satisfies ChunkManifest);
      await persist('chunk manifest', () => deps.storage.putText(manifest.bucket, manifest.key, body, 'application/json'), keep);
      const done = { videoId: d.videoId, chunk: d.chunk, renditions, manifest, ...audioGroup, ...images, ...attempt };
      await persist('video.transcoded', () => deps.publisher.publish(Subjects.transcoded, done, { id: `${ctx.envelope.id}.done` }), {
        ...keep,
        isTransient: isNatsOutage,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
