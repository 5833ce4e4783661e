import {
  type ChunkManifest,
  type EventData,
  type HandlerContext,
  isInvalidMessageError,
  PermanentError,
  type Publisher,
  parseChunkManifest,
  RetryableError,
  Subjects,
} from '@reel/events';
import { keys, type Storage } from '@reel/storage';
import { joinChunks, masterPlaylist, measure, mediaPlaylist, type Variant } from '../hls.ts';

export interface PackagerDeps {
  storage: Storage;
  publisher: Publisher;
}

/**
 * video.transcoded → once every chunk of the video is in, the media playlists (one per rung)
 * and the master playlist, each written only after every object it names is confirmed stored.
 * Chunks arriving out of order simply wait: the last one to arrive packages the video.
 */
export function createTranscodedHandler(deps: PackagerDeps) {
  return async (d: EventData<'video.transcoded'>, ctx: HandlerContext): Promise<void> => {
    const { storage } = deps;
    const manifests: ChunkManifest[] = [];
    for (let i = 0; i < d.chunk.count; i++) {
      if (i === d.chunk.index) {
        manifests.push({ chunk: d.chunk, renditions: d.renditions });
        continue;
      }
      const key = keys.chunkManifest(d.videoId, i);
      if ((await storage.size(storage.sourceBucket, key)) === undefined) {
        ctx.log.info({ missing: i }, 'waiting for other chunks');
        return;
      }
      manifests.push(readManifest(key, await storage.getText(storage.sourceBucket, key)));
    }
    const rungs = joinChunks(manifests);
    // a playlist may only name segments that exist
    for (const r of rungs) {
      for (let i = 0; i < r.segments.length; i += 16) {
        const sizes = await Promise.all(r.segments.slice(i, i + 16).map((s) => storage.size(storage.mediaBucket, s.key)));
        const missing = sizes.indexOf(undefined);
        if (missing >= 0) throw new RetryableError(`segment ${r.segments[i + missing]?.key} is not stored yet`);
      }
    }
    const variants: Variant[] = [];
    for (const r of rungs) {
      const m = measure(r.segments);
      await storage.putText(storage.mediaBucket, keys.mediaPlaylist(d.videoId, r.rung.name), mediaPlaylist(r.segments), 'application/vnd.apple.mpegurl');
      variants.push({ rung: r.rung, codecs: r.codecs, bandwidth: m.peak, averageBandwidth: m.average, uri: `${r.rung.name}/index.m3u8` });
    }
    const master = { bucket: storage.mediaBucket, key: keys.master(d.videoId) };
    await storage.putText(master.bucket, master.key, masterPlaylist(variants), 'application/vnd.apple.mpegurl');
    const durationSec = measure(rungs[0]?.segments ?? []).durationSec;
    await deps.publisher.publish(Subjects.playable, { videoId: d.videoId, master }, { id: `${d.videoId}.playable` });
    await deps.publisher.publish(
      Subjects.packaged,
      {
        videoId: d.videoId,
        master,
        durationSec,
        renditions: variants.map((v) => ({
          name: v.rung.name,
          width: v.rung.width,
          height: v.rung.height,
          bandwidth: v.bandwidth,
          averageBandwidth: v.averageBandwidth,
          codecs: v.codecs,
          frameRate: v.rung.fps,
          playlist: keys.mediaPlaylist(d.videoId, v.rung.name),
        })),
      },
      { id: `${d.videoId}.packaged` },
    );
    ctx.log.info({ rungs: variants.length, durationSec }, 'video packaged');
  };
}

/** A stored manifest that breaks the contract will not mend by retrying: the video fails. */
function readManifest(key: string, text: string): ChunkManifest {
  try {
    return parseChunkManifest(text);
  } catch (err) {
    if (isInvalidMessageError(err)) throw new PermanentError('package_failed', `${key}: ${err.message}`, { cause: err });
    throw err;
  }
}
