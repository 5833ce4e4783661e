import type { Readable } from 'node:stream';
import type { Client } from 'minio';
import { type RetryPolicy, retrying } from './retry.ts';

export interface StreamUploadOptions {
  /** Bytes per part (S3: ≥ 5 MiB except the last). Memory held is about partSize × (partsInFlight + 1). */
  readonly partSize: number;
  /** Parts sent at once, for throughput. */
  readonly partsInFlight: number;
  readonly retry: RetryPolicy;
  readonly contentType?: string | undefined;
}

/** S3 refuses more parts than this in one upload. */
const MAX_PARTS = 10_000;

/**
 * Streams `body` to `bucket/key` in parts of a fixed size, a few in flight at a time, reading no
 * further ahead than that (so a slow store slows the source instead of filling memory). Less than
 * one part is sent as one PutObject (an empty stream as an empty object). Each part is retried on
 * its own: the source is never read twice. Any failure, the source's included, rejects and aborts
 * the multipart upload, so nothing incomplete is left behind; the source is destroyed when the
 * store fails, so its producer stops too. Resolves with the number of bytes stored.
 */
export async function uploadStream(client: Client, bucket: string, key: string, body: Readable, opts: StreamUploadOptions): Promise<number> {
  const meta = opts.contentType ? { 'Content-Type': opts.contentType } : {};
  // part buffers, reused: at most partsInFlight sending + one filling + one read ahead
  const free: Buffer[] = [];
  const take = () => free.pop() ?? Buffer.allocUnsafeSlow(opts.partSize);
  const recycle = (buf: Buffer) => {
    if (buf.length === opts.partSize) free.push(buf);
  };
  const parts = fixedParts(body, opts.partSize, take);
  const first = await parts.next();
  const second = first.done ? first : await parts.next();
  if (second.done) {
    const buf = first.done ? Buffer.alloc(0) : first.value;
    await retrying('PutObject', opts.retry, () => client.putObject(bucket, key, buf, buf.length, meta));
    return buf.length;
  }

  const uploadId = await retrying('CreateMultipartUpload', opts.retry, () => client.initiateNewMultipartUpload(bucket, key, meta));
  const etags: { part: number; etag: string }[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  let size = 0;
  const send = (part: number, buf: Buffer) => {
    size += buf.length;
    const p: Promise<void> = retrying(`UploadPart ${part}`, opts.retry, () =>
      client.uploadPart({ bucketName: bucket, objectName: key, uploadID: uploadId, partNumber: part, headers: {} }, buf),
    )
      .then((r) => {
        etags.push({ part, etag: r.etag });
        recycle(buf);
      })
      .catch((err: unknown) => {
        failure ??= { err };
        // stop the producer: the upload is lost anyway
        body.destroy();
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  try {
    send(1, first.value as Buffer);
    send(2, second.value);
    let n = 2;
    for await (const buf of parts) {
      if (failure) break;
      if (++n > MAX_PARTS) throw new RangeError(`more than ${MAX_PARTS} parts of ${opts.partSize} bytes`);
      while (inFlight.size >= opts.partsInFlight) await Promise.race(inFlight);
      if (failure) break;
      send(n, buf);
    }
    await Promise.all(inFlight);
    if (failure) throw failure.err;
    etags.sort((a, b) => a.part - b.part);
    await retrying('CompleteMultipartUpload', opts.retry, () => client.completeMultipartUpload(bucket, key, uploadId, etags));
    return size;
  } catch (err) {
    await Promise.allSettled(inFlight);
    await retrying('AbortMultipartUpload', opts.retry, () => client.abortMultipartUpload(bucket, key, uploadId)).catch(() => {
      // left for abortStaleUploads
    });
    throw failure ? failure.err : err;
  }
}

/**
 * Re-cuts a stream's chunks into parts of exactly `size` bytes (the last one shorter, never empty),
 * each copied into a buffer from `take` (a pool: the same few buffers serve the whole upload, so
 * memory stays flat instead of leaving a part-sized garbage buffer behind for every part).
 */
async function* fixedParts(body: Readable, size: number, take: () => Buffer): AsyncGenerator<Buffer, void> {
  let buf: Buffer | undefined;
  let filled = 0;
  for await (const chunk of body) {
    let c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    while (c.length > 0) {
      buf ??= take();
      const n = Math.min(size - filled, c.length);
      c.copy(buf, filled, 0, n);
      filled += n;
      c = c.subarray(n);
      if (filled === size) {
        yield buf;
        buf = undefined;
        filled = 0;
      }
    }
  }
  if (buf && filled > 0) yield buf.subarray(0, filled);
}
