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
  const parts = fixedParts(body, opts.partSize);
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

/** Re-cuts a stream's chunks into buffers of exactly `size` bytes (the last one shorter, never empty). */
async function* fixedParts(body: Readable, size: number): AsyncGenerator<Buffer, void> {
  let held: Buffer[] = [];
  let heldBytes = 0;
  for await (const chunk of body) {
    let c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    while (heldBytes + c.length >= size) {
      const take = size - heldBytes;
      held.push(c.subarray(0, take));
      yield Buffer.concat(held, size);
      held = [];
      heldBytes = 0;
      c = c.subarray(take);
    }
    if (c.length > 0) {
      held.push(c);
      heldBytes += c.length;
    }
  }
  if (heldBytes > 0) yield Buffer.concat(held, heldBytes);
}
