/** @reel/stack — local infrastructure for `npm start` and the tests. */
export * from './apps.ts';
export * from './infra.ts';
export * from './restartable.ts';
export * from './testing.ts';
export * from './clips.ts';
export * from './chromium.ts';
export * from './hls-check.ts';
