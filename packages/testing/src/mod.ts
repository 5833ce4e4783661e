/** @reel/testing — clients of a running platform for tests and benchmarks; starts nothing itself. */
export * from './clips.ts';
export * from './hls-check.ts';
export * from './http-clients.ts';
export * from './until.ts';
export * from './receiver.ts';
export * from './fixtures.ts';
export * from './jetstream.ts';
