/** @reel/stack — local infrastructure for `npm start` and the tests. */
export * from './apps.ts';
export * from './infra.ts';
export * from './restartable.ts';
export * from './testing.ts';
export * from './chromium.ts';
// the test clients moved to @reel/testing; re-exported so tests keep importing them from here
export * from '@reel/testing';
export * from './supervise.ts';
