/** @reel/storage — S3-compatible storage (MinIO, AWS S3, Swift's s3api) and the object-key builders. */
export * from './errors.ts';
export * from './keys.ts';
export * from './storage.ts';
export * from './guard.ts';
