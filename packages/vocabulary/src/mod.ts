/**
 * @reel/vocabulary — the words every service and the CLI use about a video, defined once:
 * its id, status, visibility and title, and the platform's limits. Apart from the contract's
 * runtime (@reel/events re-exports it), so a client can import it without NATS or telemetry.
 */
export * from './limits.ts';
export * from './video.ts';
