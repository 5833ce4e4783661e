import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SpanKind, withSpan } from '@reel/telemetry/span';
import { Client, IamAwsProvider } from 'minio';

/** Every S3 call is a CLIENT span named after the S3 operation. */
const s3 = <T>(op: string, bucket: string, key: string, fn: () => Promise<T>) =>
  withSpan(
    `S3 ${op}`,
    { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'aws-api', 'rpc.service': 'S3', 'rpc.method': op, 'aws.s3.bucket': bucket, 'aws.s3.key': key } },
    fn,
  );

export interface StorageConfig {
  readonly S3_ENDPOINT: string;
  readonly S3_REGION: string;
  readonly S3_ACCESS_KEY: string;
  readonly S3_SECRET_KEY: string;
  readonly S3_CREDENTIALS?: 'static' | 'iam';
  readonly S3_SOURCE_BUCKET: string;
  readonly S3_MEDIA_BUCKET: string;
}

/** The platform's view of S3-compatible storage: two buckets and the few calls it makes. */
export interface Storage {
  readonly client: Client;
  readonly sourceBucket: string;
  readonly mediaBucket: string;
  /** Creates both buckets when missing (idempotent; every service may call it). */
  ensureBuckets(): Promise<void>;
  putStream(bucket: string, key: string, body: Readable, contentType?: string, size?: number): Promise<void>;
  putFile(bucket: string, key: string, file: string, contentType?: string): Promise<number>;
  putText(bucket: string, key: string, text: string, contentType: string): Promise<void>;
  getText(bucket: string, key: string): Promise<string>;
  download(bucket: string, key: string, file: string): Promise<void>;
  /** Size in bytes, or undefined when the object does not exist. */
  size(bucket: string, key: string): Promise<number | undefined>;
  /** Removes every object under `prefix`; returns how many. */
  removePrefix(bucket: string, prefix: string): Promise<number>;
  presignGet(bucket: string, key: string, expirySec: number): Promise<string>;
  presignPut(bucket: string, key: string, expirySec: number): Promise<string>;
}

export function createStorage(cfg: StorageConfig): Storage {
  const u = new URL(cfg.S3_ENDPOINT);
  const useSSL = u.protocol === 'https:';
  const client = new Client({
    endPoint: u.hostname,
    port: u.port ? Number(u.port) : useSSL ? 443 : 80,
    useSSL,
    region: cfg.S3_REGION,
    pathStyle: true,
    // on AWS, the pod's or instance's role (no keys in the config at all)
    ...(cfg.S3_CREDENTIALS === 'iam' ? { credentialsProvider: new IamAwsProvider({}) } : { accessKey: cfg.S3_ACCESS_KEY, secretKey: cfg.S3_SECRET_KEY }),
  });
  const meta = (contentType?: string) => (contentType ? { 'Content-Type': contentType } : {});
  return {
    client,
    sourceBucket: cfg.S3_SOURCE_BUCKET,
    mediaBucket: cfg.S3_MEDIA_BUCKET,
    async ensureBuckets() {
      for (const b of [cfg.S3_SOURCE_BUCKET, cfg.S3_MEDIA_BUCKET]) {
        if (await client.bucketExists(b)) continue;
        try {
          await client.makeBucket(b, cfg.S3_REGION);
        } catch (err) {
          // another service made it first
          const code = (err as { code?: string }).code;
          if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
        }
      }
    },
    putStream: (bucket, key, body, contentType, size) =>
      s3('PutObject', bucket, key, async () => {
        if (size !== undefined) {
          await client.putObject(bucket, key, body, size, meta(contentType));
          return;
        }
        // minio-js sends a stream of unknown size as a multipart upload, and an upload with no
        // parts is refused (MalformedXML): look at the first chunk before choosing
        const chunks = body[Symbol.asyncIterator]();
        const first = await chunks.next();
        if (first.done) {
          await client.putObject(bucket, key, Buffer.alloc(0), 0, meta(contentType));
          return;
        }
        const rest = Readable.from(
          (async function* () {
            yield first.value as Buffer;
            for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value as Buffer;
          })(),
        );
        await client.putObject(bucket, key, rest, undefined, meta(contentType));
      }),
    putFile: (bucket, key, file, contentType) =>
      s3('PutObject', bucket, key, async () => {
        const { size } = await stat(file);
        await client.putObject(bucket, key, createReadStream(file), size, meta(contentType));
        return size;
      }),
    putText: (bucket, key, text, contentType) =>
      s3('PutObject', bucket, key, async () => {
        const buf = Buffer.from(text);
        await client.putObject(bucket, key, buf, buf.length, meta(contentType));
      }),
    getText: (bucket, key) =>
      s3('GetObject', bucket, key, async () => {
        const chunks: Buffer[] = [];
        for await (const c of await client.getObject(bucket, key)) chunks.push(c as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      }),
    download: (bucket, key, file) =>
      s3('GetObject', bucket, key, async () => {
        await pipeline(await client.getObject(bucket, key), createWriteStream(file));
      }),
    size: (bucket, key) =>
      s3('HeadObject', bucket, key, async () => {
        try {
          return (await client.statObject(bucket, key)).size;
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'NotFound' || code === 'NoSuchKey') return undefined;
          throw err;
        }
      }),
    removePrefix: (bucket, prefix) =>
      s3('DeleteObjects', bucket, prefix, async () => {
        const names: string[] = [];
        for await (const o of client.listObjectsV2(bucket, prefix, true)) if (o.name) names.push(o.name);
        for (let i = 0; i < names.length; i += 500) await client.removeObjects(bucket, names.slice(i, i + 500));
        return names.length;
      }),
    presignGet: (bucket, key, expirySec) => client.presignedGetObject(bucket, key, expirySec),
    presignPut: (bucket, key, expirySec) => client.presignedPutObject(bucket, key, expirySec),
  };
}
