import { createReadStream, createWriteStream } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { stat } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SpanKind, withSpan } from '@reel/telemetry/span';
import { Client, CopyDestinationOptions, CopySourceOptions, IamAwsProvider } from 'minio';
import { cacheControlOf } from './keys.ts';
import { isTransientStorageError, StorageUnavailableError } from './errors.ts';
import {
  type AppendResult,
  appendParts,
  DEFAULT_STREAMED_PART_SIZE,
  MIN_PART_SIZE,
  PartPool,
  type PartStreamer,
  type Remaining,
  SourceEndedError,
  type Unanswered,
  type UploadedPart,
  uploadStream,
} from './multipart.ts';
import { presignPutWithLength, type SigningCredentials } from './presign.ts';
import { type RetryPolicy, retrying } from './retry.ts';
import { abortStaleUploads } from './stale-uploads.ts';

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

export interface StorageOptions {
  /**
   * How long each call keeps retrying while storage is unreachable or failing (5xx, SlowDown)
   * before it throws StorageUnavailableError. Workers ride out an outage (the default); the
   * gateway passes a short budget so a request fails fast with 503.
   */
  readonly retryBudgetMs?: number;
  /** Part size of streamed uploads (putStream); memory per upload is about partSize × (partsInFlight + 1). */
  readonly partSize?: number;
  /** Parts of one streamed upload sent at once. */
  readonly partsInFlight?: number;
  /** Part size when a part's bytes are sent as they arrive (the source's length known): no memory held. */
  readonly streamedPartSize?: number;
}

export const DEFAULT_RETRY_BUDGET_MS = 90_000;
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
export const DEFAULT_PARTS_IN_FLIGHT = 3;
export { MIN_PART_SIZE, SourceEndedError, type AppendResult, type Remaining, type Unanswered, type UploadedPart };

/** A multipart upload kept open across requests (a resumable upload's). */
export interface OpenMultipart {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
}

/** The platform's view of S3-compatible storage: two buckets and the few calls it makes. */
export interface Storage {
  readonly client: Client;
  readonly sourceBucket: string;
  readonly mediaBucket: string;
  /** Bytes per part of the streamed uploads (putStream, appendParts). */
  readonly partSize: number;
  /** Creates both buckets when missing (idempotent; every service may call it). */
  ensureBuckets(): Promise<void>;
  /**
   * Streams `body` to storage in parts (bounded memory whatever its length); rejects on any
   * error of the source or the store, leaving no object and no incomplete upload. With
   * `remaining` (how much of the body is sure to come, from a Content-Length), parts are sent as
   * their bytes arrive, without a copy; a body that ends before that rejects with
   * SourceEndedError. Resolves with the number of bytes stored.
   */
  putStream(bucket: string, key: string, body: Readable, contentType?: string, remaining?: Remaining): Promise<number>;
  putFile(bucket: string, key: string, file: string, contentType?: string): Promise<number>;
  /**
   * A multipart upload that outlives a request (resumable uploads): start it, append to it request
   * after request, complete or abort it. The caller keeps the upload id and the parts sent.
   */
  startMultipart(bucket: string, key: string, contentType?: string): Promise<OpenMultipart>;
  /**
   * Streams `prefix` then `body` into `upload` as parts numbered from `firstPart` (bounded memory,
   * parts in flight as putStream). The bytes after the last full part are sent as a part too when
   * `isLast(received)` or they are at least MIN_PART_SIZE; otherwise they come back in `held`, for
   * the caller to keep until the next request. With `remaining`, parts are sent as their bytes
   * arrive (putStream); a body cut short keeps the parts completed before. With `early`, resolves
   * once every byte of the body is handed to the store, the last parts' answers in `unanswered`.
   */
  appendParts(
    upload: OpenMultipart,
    firstPart: number,
    body: Readable,
    opts: { prefix?: Buffer | undefined; isLast: (received: number) => boolean; remaining?: Remaining | undefined; early?: boolean | undefined },
  ): Promise<AppendResult>;
  /** The parts the store holds for `upload` (ListParts), in order. */
  listParts(upload: OpenMultipart): Promise<UploadedPart[]>;
  completeMultipart(upload: OpenMultipart, parts: readonly UploadedPart[]): Promise<void>;
  /** Aborts the upload (no error when it is already gone). */
  abortMultipart(upload: OpenMultipart): Promise<void>;
  putBytes(bucket: string, key: string, bytes: Buffer, contentType?: string): Promise<void>;
  /** The object's bytes, or undefined when it does not exist (for small objects only: read whole). */
  getBytes(bucket: string, key: string): Promise<Buffer | undefined>;
  putText(bucket: string, key: string, text: string, contentType: string): Promise<void>;
  getText(bucket: string, key: string): Promise<string>;
  download(bucket: string, key: string, file: string): Promise<void>;
  /** Size in bytes, or undefined when the object does not exist. */
  size(bucket: string, key: string): Promise<number | undefined>;
  /** Server-side copy within a bucket (the bytes do not pass through this process). */
  copy(bucket: string, from: string, to: string): Promise<void>;
  /** Removes one object (no error when it does not exist). */
  remove(bucket: string, key: string): Promise<void>;
  /** Removes every object under `prefix`; returns how many. */
  removePrefix(bucket: string, prefix: string): Promise<number>;
  /**
   * Aborts multipart uploads started more than `olderThanMs` ago (a crashed writer's leftovers),
   * only those whose key `select` accepts when given; returns how many.
   */
  abortStaleUploads(bucket: string, olderThanMs: number, select?: (key: string) => boolean): Promise<number>;
  presignGet(bucket: string, key: string, expirySec: number): Promise<string>;
  /** A presigned PUT; with `contentLength`, the signature covers it and storage refuses any other length. */
  presignPut(bucket: string, key: string, expirySec: number, contentLength?: number): Promise<string>;
}

export function createStorage(cfg: StorageConfig, opts: StorageOptions = {}): Storage {
  const u = new URL(cfg.S3_ENDPOINT);
  const useSSL = u.protocol === 'https:';
  const iam = cfg.S3_CREDENTIALS === 'iam' ? new IamAwsProvider({}) : undefined;
  const client = new Client({
    endPoint: u.hostname,
    port: u.port ? Number(u.port) : useSSL ? 443 : 80,
    useSSL,
    region: cfg.S3_REGION,
    pathStyle: true,
    // retries are ours (retrying below): minio's would hide the S3 error code behind a plain Error
    retryOptions: { disableRetry: true },
    // on AWS, the pod's or instance's role (no keys in the config at all)
    ...(iam ? { credentialsProvider: iam } : { accessKey: cfg.S3_ACCESS_KEY, secretKey: cfg.S3_SECRET_KEY }),
  });
  // minio signs the SHA-256 of every body over plain http (UNSIGNED-PAYLOAD over https): hashing each
  // part here, and the server again, halved streamed uploads (bench-api/parts.ts). Bodies go
  // unsigned as over https and as presigned PUTs do; the request itself stays signed.
  (client as unknown as { enableSHA256: boolean }).enableSHA256 = false;
  const retry: RetryPolicy = { budgetMs: opts.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS };
  const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
  // S3 refuses parts under 5 MiB (but the last)
  if (partSize < MIN_PART_SIZE) throw new RangeError(`partSize must be at least ${MIN_PART_SIZE} bytes`);
  const partsInFlight = Math.max(1, Math.floor(opts.partsInFlight ?? DEFAULT_PARTS_IN_FLIGHT));
  // the part buffers of every streamed upload: enough for one upload at full speed
  const pool = new PartPool(partSize, partsInFlight + 1);
  const streamedPartSize = Math.max(MIN_PART_SIZE, opts.streamedPartSize ?? DEFAULT_STREAMED_PART_SIZE);
  const streamPart = partStreamer(client, useSSL);
  /** Content-Type as given, Cache-Control as the key's kind says (cacheControlOf). */
  const meta = (contentType?: string, key = '') => {
    const cache = cacheControlOf(key);
    return { ...(contentType ? { 'Content-Type': contentType } : {}), ...(cache ? { 'Cache-Control': cache } : {}) };
  };
  const missing = (err: unknown) => {
    const code = (err as { code?: string }).code;
    return code === 'NotFound' || code === 'NoSuchKey' || code === 'NoSuchUpload';
  };
  /** One S3 call: a span around it, retried in place on transient failures. */
  const call = <T>(op: string, bucket: string, key: string, fn: () => Promise<T>) => s3(op, bucket, key, () => retrying(op, retry, fn));
  const credentials = async (): Promise<SigningCredentials> => (iam ? iam.getCredentials() : { accessKey: cfg.S3_ACCESS_KEY, secretKey: cfg.S3_SECRET_KEY });
  return {
    client,
    sourceBucket: cfg.S3_SOURCE_BUCKET,
    mediaBucket: cfg.S3_MEDIA_BUCKET,
    partSize,
    async ensureBuckets() {
      for (const b of [cfg.S3_SOURCE_BUCKET, cfg.S3_MEDIA_BUCKET]) {
        if (await call('HeadBucket', b, '', () => client.bucketExists(b))) continue;
        try {
          await call('CreateBucket', b, '', () => client.makeBucket(b, cfg.S3_REGION));
        } catch (err) {
          // another service made it first
          const code = (err as { code?: string }).code;
          if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
        }
      }
    },
    // not retried as a whole: the source can be read once; uploadStream retries each part
    putStream: (bucket, key, body, contentType, remaining) =>
      s3('PutObject', bucket, key, () =>
        uploadStream(client, bucket, key, body, { partSize, partsInFlight, retry, contentType, pool, remaining, streamPart, streamedPartSize }),
      ),
    startMultipart: (bucket, key, contentType) =>
      call('CreateMultipartUpload', bucket, key, async () => ({
        bucket,
        key,
        uploadId: await client.initiateNewMultipartUpload(bucket, key, meta(contentType)),
      })),
    // not retried as a whole (the body is read once): each part is
    appendParts: (upload, firstPart, body, opts) =>
      s3('UploadPart', upload.bucket, upload.key, () =>
        appendParts(client, upload, firstPart, body, { partSize, partsInFlight, retry, pool, streamPart, streamedPartSize, ...opts }),
      ),
    listParts: (upload) =>
      call('ListParts', upload.bucket, upload.key, async () => {
        // protected in minio's types, public in its code
        const list = (client as unknown as { listParts: (b: string, k: string, id: string) => Promise<UploadedPart[]> }).listParts;
        const parts = await list.call(client, upload.bucket, upload.key, upload.uploadId);
        return parts.map(({ part, etag, size }) => ({ part, etag, size })).sort((a, b) => a.part - b.part);
      }),
    completeMultipart: (upload, parts) =>
      call('CompleteMultipartUpload', upload.bucket, upload.key, async () => {
        await client.completeMultipartUpload(
          upload.bucket,
          upload.key,
          upload.uploadId,
          [...parts].sort((a, b) => a.part - b.part),
        );
      }),
    abortMultipart: (upload) =>
      call('AbortMultipartUpload', upload.bucket, upload.key, async () => {
        try {
          await client.abortMultipartUpload(upload.bucket, upload.key, upload.uploadId);
        } catch (err) {
          if (!missing(err)) throw err;
        }
      }),
    putBytes: (bucket, key, bytes, contentType) =>
      call('PutObject', bucket, key, async () => {
        await client.putObject(bucket, key, bytes, bytes.length, meta(contentType));
      }),
    getBytes: (bucket, key) =>
      call('GetObject', bucket, key, async () => {
        try {
          const chunks: Buffer[] = [];
          for await (const c of await client.getObject(bucket, key)) chunks.push(c as Buffer);
          return Buffer.concat(chunks);
        } catch (err) {
          if (missing(err)) return undefined;
          throw err;
        }
      }),
    putFile: (bucket, key, file, contentType) =>
      call('PutObject', bucket, key, async () => {
        const { size } = await stat(file);
        await client.putObject(bucket, key, createReadStream(file), size, meta(contentType, key));
        return size;
      }),
    putText: (bucket, key, text, contentType) =>
      call('PutObject', bucket, key, async () => {
        const buf = Buffer.from(text);
        await client.putObject(bucket, key, buf, buf.length, meta(contentType, key));
      }),
    getText: (bucket, key) =>
      call('GetObject', bucket, key, async () => {
        const chunks: Buffer[] = [];
        for await (const c of await client.getObject(bucket, key)) chunks.push(c as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      }),
    download: (bucket, key, file) =>
      call('GetObject', bucket, key, async () => {
        await pipeline(await client.getObject(bucket, key), createWriteStream(file));
      }),
    size: (bucket, key) =>
      call('HeadObject', bucket, key, async () => {
        try {
          return (await client.statObject(bucket, key)).size;
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'NotFound' || code === 'NoSuchKey') return undefined;
          throw err;
        }
      }),
    copy: (bucket, from, to) =>
      call('CopyObject', bucket, to, async () => {
        await client.copyObject(new CopySourceOptions({ Bucket: bucket, Object: from }), new CopyDestinationOptions({ Bucket: bucket, Object: to }));
      }),
    remove: (bucket, key) => call('DeleteObject', bucket, key, () => client.removeObject(bucket, key)),
    removePrefix: (bucket, prefix) =>
      s3('DeleteObjects', bucket, prefix, async () => {
        // listing restarts from the top on a retry: objects already removed are simply not listed
        const names = await retrying('ListObjectsV2', retry, async () => {
          const found: string[] = [];
          for await (const o of client.listObjectsV2(bucket, prefix, true)) if (o.name) found.push(o.name);
          return found;
        });
        for (let i = 0; i < names.length; i += 500) {
          const batch = names.slice(i, i + 500);
          await retrying('DeleteObjects', retry, () => client.removeObjects(bucket, batch));
        }
        return names.length;
      }),
    abortStaleUploads: (bucket, olderThanMs, select) =>
      s3('AbortMultipartUpload', bucket, '', () => abortStaleUploads(client, bucket, olderThanMs, retry, select)),
    // signing is local (no span), but an IAM role's credentials may have to be fetched first
    presignGet: (bucket, key, expirySec) => retrying('PresignGet', retry, () => client.presignedGetObject(bucket, key, expirySec)),
    presignPut: (bucket, key, expirySec, contentLength) =>
      retrying('PresignPut', retry, async () =>
        contentLength === undefined
          ? client.presignedPutObject(bucket, key, expirySec)
          : presignPutWithLength({ endpoint: cfg.S3_ENDPOINT, region: cfg.S3_REGION, bucket, key, contentLength, expirySec, credentials: await credentials() }),
      ),
  };
}

/** How long a streamed part may go without a byte either way before it is given up. */
const PART_IDLE_MS = 60_000;

/**
 * UploadPart with the body written as it arrives: a presigned URL (signed here, the payload
 * unsigned as with any presigned PUT) and a plain HTTP request of the part's length, on a
 * keep-alive agent. A failure is not retried (the bytes are gone): a transient one becomes
 * StorageUnavailableError at once.
 */
function partStreamer(client: Client, useSSL: boolean): PartStreamer {
  const agent = useSSL ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = useSSL ? httpsRequest : httpRequest;
  const fail = (part: number, err: unknown) =>
    isTransientStorageError(err) ? new StorageUnavailableError(`storage is unavailable (UploadPart ${part}: ${(err as Error).message})`, { cause: err }) : err;
  return ({ bucket, key, uploadId }, part, length) => {
    const body = new PassThrough({ highWaterMark: 256 * 1024 });
    const etag = (async () => {
      const url = await client.presignedUrl('PUT', bucket, key, 3600, { partNumber: String(part), uploadId });
      return new Promise<string>((resolve, reject) => {
        const req = send(url, { method: 'PUT', agent, headers: { 'content-length': length }, timeout: PART_IDLE_MS }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(fail(part, err)));
          res.on('end', () => {
            const etag = res.headers.etag;
            if (res.statusCode === 200 && etag) return resolve(etag.replaceAll('"', ''));
            const text = Buffer.concat(chunks).toString('utf8');
            const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP ${res.statusCode}`;
            const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200);
            reject(fail(part, Object.assign(new Error(`UploadPart ${part}: ${code}: ${message}`), { code, statusCode: res.statusCode })));
          });
        });
        req.on('timeout', () => req.destroy(Object.assign(new Error(`UploadPart ${part}: no progress for ${PART_IDLE_MS} ms`), { code: 'ETIMEDOUT' })));
        req.on('error', (err) => {
          body.destroy();
          reject(fail(part, err));
        });
        body.on('error', (err) => req.destroy(err));
        // given up before its last byte (the source failed or ended early): the part is not sent
        body.on('close', () => {
          if (!body.writableFinished) req.destroy(new Error(`UploadPart ${part}: abandoned`));
        });
        body.pipe(req);
      });
    })();
    return { body, etag };
  };
}
