import { type Static, type TSchema, Type as T } from '@sinclair/typebox';
import { problemsOf } from './contract.ts';
import { InvalidMessageError } from './errors.ts';
import { AudioRendition, ChunkDone } from './schemas.ts';

/**
 * What the transcoder stores beside a finished chunk (key `keys.chunkManifest`): the same as its
 * `video.transcoded` event without the video id and the manifest's own key. The packager reads every other chunk's from
 * storage, so this shape is a contract between them like an event's.
 */
export const ChunkManifest = T.Object(ChunkDone);
export type ChunkManifest = Static<typeof ChunkManifest>;

/** Parses and validates a stored chunk manifest; InvalidMessageError lists what is wrong. */
export function parseChunkManifest(text: string): ChunkManifest {
  return parseManifest(ChunkManifest, 'chunk manifest', text);
}

function parseManifest<S extends TSchema>(schema: S, what: string, text: string): Static<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidMessageError(`${what} is not JSON`, [], { cause: err });
  }
  const problems = problemsOf(schema, raw);
  if (problems.length) throw new InvalidMessageError(`invalid ${what}`, problems);
  return raw as Static<S>;
}

/** What the transcoder stores beside the audio rendition (key `keys.audioManifest`). */
export const AudioManifest = AudioRendition;
export type AudioManifest = Static<typeof AudioManifest>;

/** Parses and validates a stored audio manifest; InvalidMessageError lists what is wrong. */
export function parseAudioManifest(text: string): AudioManifest {
  return parseManifest(AudioManifest, 'audio manifest', text);
}
