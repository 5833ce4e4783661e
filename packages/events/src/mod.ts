/**
 * @reel/events — the platform's contract: every subject, its versioned schema, the envelope,
 * and the helpers that publish, consume and query over NATS.
 */
export * from './chunk-manifest.ts';
export * from './consume.ts';
export * from './contract.ts';
export * from './errors.ts';
export * from './logger.ts';
export * from './publish.ts';
export * from './queries.ts';
export * from './rpc.ts';
export * from './schemas.ts';
export * from './stream.ts';
export * from './tombstones.ts';
export * from './trace.ts';
export * from '@reel/vocabulary';
export * from './metrics.ts';
export * from './follow.ts';
