/** @reel/runtime — what every app needs once: config, logger, NATS connection, lifecycle, temp directories owned by a process. */
export * from './backoff.ts';
export * from './config.ts';
export * from './lifecycle.ts';
export * from './logger.ts';
export * from './nats.ts';
export * from './owned-dirs.ts';
export * from './service.ts';
