import {
  type AudioManifest,
  type ChunkManifest,
  type EventData,
  type HandlerContext,
  isInvalidMessageError,
  PermanentError,
  type Publisher,
  parseAudioManifest,
  parseChunkManifest,
  RetryableError,
  Subjects,
} from '@reel/events';
import { keys, type Storage } from '@reel/storage';
import { type AudioVariant, joinChunks, masterPlaylist, measure, mediaPlaylist, type RungSegments, type Variant } from '../hls.ts';
import { gatherImages, storyboardVtt } from '../storyboard.ts';

export interface PackagerDeps {
  storage: Storage;
  publisher: Publisher;
}

/** What one look at storage found: the chunks present in order from the first, and the audio. */
interface Stored {
  count: number;
  /** Chunks 0…k-1, every one present (the first gap ends the prefix). */
  prefix: ChunkManifest[];
  audioGroup: boolean;
  audio?: AudioManifest;
}

const complete = (s: Stored) => s.prefix.length === s.count && (!s.audioGroup || s.audio?.complete === true);
const playable = (s: Stored) => s.prefix.length > 0 && (!s.audioGroup || s.audio !== undefined);

/**
 * video.transcoded and video.audio.transcoded → the playlists of whatever plays so far. As soon
 * as the first chunk of every rung (and the audio rendition, when it is one of its own) is stored,
 * (its first segments are enough), the media and master playlists list that prefix as growing `EVENT` playlists and
 * `video.playable` is published; each chunk landing in order extends them; the last one makes them
 * `VOD` (after checking every segment they name is stored) and publishes the images the chunks
 * made (video.thumbnails.created, with the storyboard VTT stitched over their sprites), then `video.packaged`.
 * Every delivery recomputes from storage, so order and repetition do not matter, and a writer
 * looks again after writing: whoever wrote last has seen the newest state.
 */
export function createPackager(deps: PackagerDeps) {
  const { storage } = deps;

  async function readChunk(videoId: string, index: number): Promise<ChunkManifest | undefined> {
    const key = keys.chunkManifest(videoId, index);
    if ((await storage.size(storage.sourceBucket, key)) === undefined) return undefined;
    return readManifest(key, await storage.getText(storage.sourceBucket, key), parseChunkManifest);
  }

  async function look(videoId: string, known: Stored | undefined, first?: ChunkManifest): Promise<Stored | undefined> {
    const head = known?.prefix[0] ?? (first?.chunk.index === 0 ? first : await readChunk(videoId, 0));
    if (!head) return undefined;
    const prefix = known ? [...known.prefix] : [head];
    while (prefix.length < head.chunk.count) {
      const i = prefix.length;
      const next = first?.chunk.index === i ? first : await readChunk(videoId, i);
      if (!next) break;
      prefix.push(next);
    }
    const audioGroup = head.audioGroup === true;
    let audio = known?.audio;
    if (audioGroup && !audio?.complete) {
      const key = keys.audioManifest(videoId);
      if ((await storage.size(storage.sourceBucket, key)) !== undefined) {
        audio = readManifest(key, await storage.getText(storage.sourceBucket, key), parseAudioManifest);
      }
    }
    return { count: head.chunk.count, prefix, audioGroup, ...(audio ? { audio } : {}) };
  }

  /** Writes the playlists of `s`; the variants and the length of video they list. */
  async function write(videoId: string, s: Stored): Promise<{ variants: Variant[]; durationSec: number }> {
    const done = complete(s);
    const rungs = joinChunks(s.prefix);
    const end = rungs[0] ? measure(rungs[0].segments).durationSec : 0;
    // an unfinished video's audio is listed as far as its video goes
    const audioSegments = s.audio ? (done ? s.audio.segments : prefixOf(s.audio.segments, end)) : [];
    if (done) await assertStored([...rungs.flatMap((r) => r.segments), ...audioSegments]);
    const type = done ? 'VOD' : 'EVENT';
    let audio: AudioVariant | undefined;
    if (s.audio && audioSegments.length) {
      const m = measure(audioSegments);
      audio = { codecs: s.audio.codecs, bandwidth: m.peak, averageBandwidth: m.average, uri: 'audio/index.m3u8' };
      await storage.putText(storage.mediaBucket, keys.audioPlaylist(videoId), mediaPlaylist(audioSegments, type), 'application/vnd.apple.mpegurl');
    }
    const variants = await Promise.all(rungs.map((r) => writeRung(videoId, r, type)));
    await storage.putText(storage.mediaBucket, keys.master(videoId), masterPlaylist(variants, audio), 'application/vnd.apple.mpegurl');
    return { variants, durationSec: end };
  }

  async function writeRung(videoId: string, r: RungSegments, type: 'EVENT' | 'VOD'): Promise<Variant> {
    const m = measure(r.segments);
    await storage.putText(storage.mediaBucket, keys.mediaPlaylist(videoId, r.rung.name), mediaPlaylist(r.segments, type), 'application/vnd.apple.mpegurl');
    return { rung: r.rung, codecs: r.codecs, bandwidth: m.peak, averageBandwidth: m.average, uri: `${r.rung.name}/index.m3u8` };
  }

  /** A final playlist may only name segments that exist. */
  async function assertStored(segments: { key: string }[]): Promise<void> {
    for (let i = 0; i < segments.length; i += 16) {
      const sizes = await Promise.all(segments.slice(i, i + 16).map((s) => storage.size(storage.mediaBucket, s.key)));
      const missing = sizes.indexOf(undefined);
      if (missing >= 0) throw new RetryableError(`segment ${segments[i + missing]?.key} is not stored yet`);
    }
  }

  async function pack(videoId: string, ctx: HandlerContext, first?: ChunkManifest): Promise<void> {
    let seen = await look(videoId, undefined, first);
    if (!seen || !playable(seen)) {
      ctx.log.info({ chunks: seen?.prefix.length ?? 0, audio: seen?.audio !== undefined }, 'waiting for the first chunk and the audio');
      return;
    }
    for (;;) {
      const { variants, durationSec } = await write(videoId, seen);
      const master = { bucket: storage.mediaBucket, key: keys.master(videoId) };
      await deps.publisher.publish(Subjects.playable, { videoId, master }, { id: announcement(videoId, seen, 'playable') });
      if (complete(seen)) {
        await publishImages(videoId, seen, durationSec);
        await publishPackaged(videoId, seen, variants, durationSec);
        return;
      }
      // another delivery may have written a shorter list while this one read: look again
      const again = await look(videoId, seen);
      if (!again || (again.prefix.length === seen.prefix.length && again.audio?.segments.length === seen.audio?.segments.length)) {
        ctx.log.info({ chunks: seen.prefix.length, of: seen.count }, 'playable prefix packaged');
        return;
      }
      seen = again;
    }
  }

  /**
   * The images the chunks made beside their rungs: the storyboard VTT stitched over their sprites,
   * then video.thumbnails.created; a video whose chunks found no poster frame (or no tile) gets
   * video.failed at the thumbnails stage instead, and is ready without images.
   */
  async function publishImages(videoId: string, s: Stored, durationSec: number): Promise<void> {
    const { poster, thumbnails, sprites } = gatherImages(s.prefix);
    const first = sprites[0];
    if (!poster || !first) {
      const missing = poster ? 'no storyboard tile' : 'no poster frame';
      const message = `the encode found ${missing} in the video (${s.prefix.filter((c) => c.images).length} of ${s.count} chunks made images)`;
      await deps.publisher.publish(
        Subjects.failed,
        { videoId, stage: 'thumbnails', code: 'thumbnails_failed', message },
        { id: announcement(videoId, s, 'thumbnails.failed') },
      );
      return;
    }
    const vtt = keys.storyboardVtt(videoId);
    await storage.putText(storage.mediaBucket, vtt, storyboardVtt(sprites, durationSec), 'text/vtt');
    await deps.publisher.publish(
      Subjects.thumbnailsCreated,
      {
        videoId,
        bucket: storage.mediaBucket,
        poster,
        thumbnails: thumbnails.map((t) => t.key),
        storyboard: {
          image: first.key,
          vtt,
          columns: Math.max(...sprites.map((p) => p.columns)),
          rows: Math.max(...sprites.map((p) => Math.ceil(p.count / p.columns))),
          intervalSec: first.intervalSec,
          sprites: sprites.map((p) => p.key),
        },
      },
      { id: announcement(videoId, s, 'thumbnails') },
    );
  }

  async function publishPackaged(videoId: string, s: Stored, variants: Variant[], durationSec: number): Promise<void> {
    await deps.publisher.publish(
      Subjects.packaged,
      {
        videoId,
        master: { bucket: storage.mediaBucket, key: keys.master(videoId) },
        durationSec,
        renditions: variants.map((v) => ({
          name: v.rung.name,
          width: v.rung.width,
          height: v.rung.height,
          bandwidth: v.bandwidth,
          averageBandwidth: v.averageBandwidth,
          codecs: v.codecs,
          frameRate: v.rung.fps,
          playlist: keys.mediaPlaylist(videoId, v.rung.name),
        })),
      },
      { id: announcement(videoId, s, 'packaged') },
    );
  }

  return {
    transcoded: async (d: EventData<'video.transcoded'>, ctx: HandlerContext): Promise<void> => {
      const manifest: ChunkManifest = {
        chunk: d.chunk,
        renditions: d.renditions,
        ...(d.audioGroup ? { audioGroup: true } : {}),
        ...(d.images ? { images: d.images } : {}),
        ...(d.attempt ? { attempt: d.attempt } : {}),
      };
      await pack(d.videoId, ctx, manifest);
    },
    audioTranscoded: async (d: EventData<'video.audio.transcoded'>, ctx: HandlerContext): Promise<void> => {
      await pack(d.videoId, ctx);
    },
  };
}

/**
 * The id of one of the packager's announcements for the attempt that made the chunks, as the
 * upload's own (`<videoId>.packaged`, `<videoId>.packaged.2` for the owner's first retry): an
 * attempt's announcement is never dropped as a repeat of the last one's.
 */
function announcement(videoId: string, s: Stored, what: string): string {
  const attempt = s.prefix[0]?.attempt ?? 1;
  return attempt > 1 ? `${videoId}.${what}.${attempt}` : `${videoId}.${what}`;
}

/** The segments that start before `endSec`. */
function prefixOf<S extends { durationSec: number }>(segments: S[], endSec: number): S[] {
  const out: S[] = [];
  let at = 0;
  for (const s of segments) {
    if (at >= endSec - 1e-3) break;
    out.push(s);
    at += s.durationSec;
  }
  return out;
}

/** A stored manifest that breaks the contract will not mend by retrying: the video fails. */
function readManifest<M>(key: string, text: string, parse: (text: string) => M): M {
  try {
    return parse(text);
  } catch (err) {
    if (isInvalidMessageError(err)) throw new PermanentError('package_failed', `${key}: ${err.message}`, { cause: err });
    throw err;
  }
}
