import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
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
import { codecsFor, parseMediaPlaylist } from '../rendition.ts';
import { isNatsOutage, persist } from '../persist.ts';
import { makeWorkDir } from '../work-dir.ts';

export interface TranscodeDeps {
  storage: Storage;
  publisher: Publisher;
  media: Media;
  workDir?: string;
  /** How long finished segments wait out a storage outage before the work item is retried. */
  persistBudgetMs?: number;
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/**
 * video.transcode.requested → one ffmpeg run (one decode, every rung) on a local copy of the
 * source, segments uploaded under deterministic keys, a chunk manifest written, then
 * video.transcoded. Temp files are removed whatever happens; ffmpeg is killed when the handler is
 * aborted (shutdown, timeout, the video deleted). Only the media's own faults are permanent; a
 * storage outage after the encode is waited out (persist) rather than re-encoding.
 */
export function createTranscodeHandler(deps: TranscodeDeps) {
  return async (d: EventData<'video.transcode.requested'>, ctx: HandlerContext): Promise<void> => {
    if (!segmentsAlign(d.segmentSec)) {
      // segments cut between keyframes would not line up across rungs: a broken work item, not a retry
      throw new PermanentError('transcode_failed', `segments of ${d.segmentSec} s do not start on keyframes every ${KEYFRAME_SEC} s`);
    }
    const dir = await makeWorkDir(deps.workDir, 'transcode');
    const keep = { signal: ctx.signal, log: ctx.log, working: ctx.working, budgetMs: deps.persistBudgetMs };
    try {
      const source = join(dir, 'source');
      await deps.storage.download(d.source.bucket, d.source.key, source);
      const outDir = join(dir, 'out');
      await Promise.all(d.ladder.map((_, i) => mkdir(join(outDir, String(i)), { recursive: true })));
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
          signal: ctx.signal,
          attributes: {
            'reel.video.id': d.videoId,
            'reel.chunk.index': d.chunk.index,
            'reel.rungs': d.ladder.map((r) => r.name).join(','),
            'reel.media.duration_sec': d.chunk.durationSec,
          },
          onProgress: (sec) => {
            if (Date.now() - lastReport < 2000) return;
            lastReport = Date.now();
            const done = (d.chunk.startSec + Math.min(sec, d.chunk.durationSec)) / (d.chunk.startSec + d.chunk.durationSec);
            deps.publisher
              .publish(Subjects.progress, { videoId: d.videoId, stage: 'transcode', percent: Math.min(99, Math.round(done * 100)) })
              .catch((err) => {
                if (!isVideoDeletedError(err)) ctx.log.warn({ err }, 'progress not published');
              });
          },
        });
      } catch (err) {
        if (isFfmpegError(err)) throw new PermanentError('transcode_failed', err.message, { cause: err });
        throw err;
      }
      const seconds = (Date.now() - started) / 1000;
      ctx.log.info({ seconds, speed: Math.round((d.chunk.durationSec / seconds) * 100) / 100, rungs: d.ladder.length }, 'chunk encoded');
      const renditions: ChunkRendition[] = [];
      for (const [i, rung] of d.ladder.entries()) {
        const rungDir = join(outDir, String(i));
        const listed = parseMediaPlaylist(await readFile(join(rungDir, 'index.m3u8'), 'utf8'));
        if (listed.length === 0) throw new PermanentError('transcode_failed', `ffmpeg produced no segments for ${rung.name}`);
        const level = await deps.media.h264Level(join(rungDir, listed[0]?.file ?? ''), ctx.signal);
        const segments = await Promise.all(
          listed.map(async (s, n) => ({
            key: keys.segment(d.videoId, rung.name, d.chunk.index, n),
            durationSec: s.durationSec,
            bytes: (await stat(join(rungDir, s.file))).size,
            file: join(rungDir, s.file),
          })),
        );
        await inBatches(segments, 6, async (s) => {
          await persist(`segment ${s.key}`, () => deps.storage.putFile(deps.storage.mediaBucket, s.key, s.file, 'video/mp2t'), keep);
        });
        renditions.push({ rung, codecs: codecsFor(level, d.audio), segments: segments.map(({ file: _f, ...s }) => s) });
        ctx.working();
      }
      const manifest = { bucket: deps.storage.sourceBucket, key: keys.chunkManifest(d.videoId, d.chunk.index) };
      const body = JSON.stringify({ chunk: d.chunk, renditions } satisfies ChunkManifest);
      await persist('chunk manifest', () => deps.storage.putText(manifest.bucket, manifest.key, body, 'application/json'), keep);
      const done = { videoId: d.videoId, chunk: d.chunk, renditions, manifest };
      await persist('video.transcoded', () => deps.publisher.publish(Subjects.transcoded, done, { id: `${ctx.envelope.id}.done` }), {
        ...keep,
        isTransient: isNatsOutage,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
