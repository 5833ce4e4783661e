import { type Static, Type as T } from '@sinclair/typebox';
import { problemsOf } from './contract.ts';
import { InvalidMessageError } from './errors.ts';
import { Chunk, ChunkRendition } from './schemas.ts';

/**
 * What the transcoder stores beside a finished chunk (key `keys.chunkManifest`): the same as its
 * `video.transcoded` event without the video id. The packager reads every other chunk's from
 * storage, so this shape is a contract between them like an event's.
 */
export const ChunkManifest = T.Object({
  chunk: Chunk,
  renditions: T.Array(ChunkRendition, { minItems: 1 }),
});
export type ChunkManifest = Static<typeof ChunkManifest>;

/** Parses and validates a stored chunk manifest; InvalidMessageError lists what is wrong. */
export function parseChunkManifest(text: string): ChunkManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidMessageError('chunk manifest is not JSON', [], { cause: err });
  }
  const problems = problemsOf(ChunkManifest, raw);
  if (problems.length) throw new InvalidMessageError('invalid chunk manifest', problems);
  return raw as ChunkManifest;
}
