// The storage settings (S3_*), for the config spec of every app that reads or writes objects:
// `import { s3Spec } from '@reel/storage/config'` (a light import: no S3 client is loaded).
import { env } from '@reel/runtime';

/** Apps that read or write objects. */
export const s3Spec = {
  S3_ENDPOINT: env.url({ default: 'http://127.0.0.1:9000', protocols: ['http', 'https'], doc: 'S3-compatible endpoint (MinIO, AWS S3, …)' }),
  S3_REGION: env.string({ default: 'us-east-1', doc: 'S3 region' }),
  S3_ACCESS_KEY: env.string({ default: 'minioadmin', secret: true, doc: 'S3 access key' }),
  S3_SECRET_KEY: env.string({ default: 'minioadmin', secret: true, doc: 'S3 secret key' }),
  S3_CREDENTIALS: env.oneOf(['static', 'iam'], {
    default: 'static',
    doc: 'static: S3_ACCESS_KEY/S3_SECRET_KEY; iam: the AWS role of the pod or instance (IRSA web identity, ECS, EC2)',
  }),
  S3_SOURCE_BUCKET: env.string({ default: 'reel-sources', doc: 'private bucket for uploads and work files' }),
  S3_MEDIA_BUCKET: env.string({ default: 'reel-media', doc: 'bucket for renditions, playlists and images' }),
} as const;
