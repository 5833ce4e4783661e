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
  /** Where part buffers come from and go back to (shared by the uploads of one Storage). */
  readonly pool?: PartPool;
}

/** One part of a multipart upload, as CompleteMultipartUpload needs it (and its size, for the caller's books). */
export interface UploadedPart {
  readonly part: number;
  readonly etag: string;
  readonly size: number;
}

/** S3 refuses more parts than this in one upload. */
export const MAX_PARTS = 10_000;
/** S3 refuses a part smaller than this, but the last. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/**
 * Part-sized buffers, reused: every streamed upload of a Storage takes its buffers here and gives
 * them back, so the same few buffers serve upload after upload instead of leaving a part-sized
 * garbage buffer behind for every part (which V8 collects late: RSS grew with the file).
 */
export class PartPool {
  readonly #free: Buffer[] = [];
  readonly partSize: number;
  readonly #keep: number;
  /** Keeps at most `keep` free buffers (the rest are left to the GC). */
  constructor(partSize: number, keep: number) {
    this.partSize = partSize;
    this.#keep = keep;
  }
  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.partSize);
  }
  /** Takes back a buffer of take() (or a view of one, such as a short last part); anything else is ignored. */
  give(view: Buffer): void {
    const whole = view.buffer;
    if (whole.byteLength !== this.partSize || this.#free.length >= this.#keep || this.#free.some((b) => b.buffer === whole)) return;
    this.#free.push(view.length === this.partSize ? view : Buffer.from(whole as ArrayBuffer));
  }
}

interface Target {
  readonly client: Client;
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly retry: RetryPolicy;
}

const sendPart = async (t: Target, part: number, buf: Buffer): Promise<UploadedPart> => {
  const r = await retrying(`UploadPart ${part}`, t.retry, () =>
    t.client.uploadPart({ bucketName: t.bucket, objectName: t.key, uploadID: t.uploadId, partNumber: part, headers: {} }, buf),
  );
  return { part, etag: r.etag, size: buf.length };
};

/**
 * Sends each buffer of `parts` as the next part (numbered from `firstPart`), at most
 * `partsInFlight` at once, reading no further ahead than that. Each part is retried on its own;
 * the first failure destroys `body` (its producer stops) and rejects once the parts in flight
 * have settled. Buffers go back to `pool` once sent.
 */
async function sendParts(t: Target, firstPart: number, parts: AsyncIterable<Buffer>, body: Readable, partsInFlight: number, pool: PartPool) {
  const done: UploadedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  let n = firstPart;
  const send = (part: number, buf: Buffer) => {
    const p: Promise<void> = sendPart(t, part, buf)
      .then((r) => {
        done.push(r);
        pool.give(buf);
      })
      .catch((err: unknown) => {
        failure ??= { err };
        // stop the producer: this request's bytes are lost anyway
        body.destroy();
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  try {
    for await (const buf of parts) {
      if (failure) break;
      if (n > MAX_PARTS) throw new RangeError(`more than ${MAX_PARTS} parts`);
      while (inFlight.size >= partsInFlight) await Promise.race(inFlight);
      if (failure) break;
      send(n++, buf);
    }
  } finally {
    await Promise.allSettled(inFlight);
  }
  if (failure) throw failure.err;
  return done.sort((a, b) => a.part - b.part);
}

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
  const pool = opts.pool ?? new PartPool(opts.partSize, opts.partsInFlight + 1);
  const parts = fixedParts(body, opts.partSize, pool);
  const first = await parts.next();
  const second = first.done ? first : await parts.next();
  if (second.done) {
    const buf = first.done ? Buffer.alloc(0) : first.value;
    await retrying('PutObject', opts.retry, () => client.putObject(bucket, key, buf, buf.length, meta));
    pool.give(buf);
    return buf.length;
  }

  const uploadId = await retrying('CreateMultipartUpload', opts.retry, () => client.initiateNewMultipartUpload(bucket, key, meta));
  const target = { client, bucket, key, uploadId, retry: opts.retry };
  async function* all() {
    yield first.value as Buffer;
    yield second.value as Buffer;
    yield* parts;
  }
  try {
    const sent = await sendParts(target, 1, all(), body, opts.partsInFlight, pool);
    await retrying('CompleteMultipartUpload', opts.retry, () => client.completeMultipartUpload(bucket, key, uploadId, sent));
    return sent.reduce((n, p) => n + p.size, 0);
  } catch (err) {
    await retrying('AbortMultipartUpload', opts.retry, () => client.abortMultipartUpload(bucket, key, uploadId)).catch(() => {
      // left for abortStaleUploads
    });
    throw err;
  }
}

export interface AppendResult {
  /** The parts sent, numbered from `firstPart`. */
  readonly parts: UploadedPart[];
  /** Bytes read from the stream (`prefix` not counted). */
  readonly received: number;
  /** The bytes after the last part, not sent (under MIN_PART_SIZE, not the end): the caller keeps them for the next request. */
  readonly held: Buffer;
}

/**
 * Adds `prefix`, then `body`, to the open multipart upload `uploadId` as parts of `partSize`,
 * numbered from `firstPart`: a resumable upload keeps one multipart upload open across requests.
 * S3 allows a short part only at the end: what is left after the last full part is sent as one
 * more part when `isLast(received)` says the upload ends here or it is at least MIN_PART_SIZE,
 * and otherwise comes back in `held`. On a failure rejects; the parts already sent stay in the
 * upload (sending the same numbers again replaces them).
 */
export async function appendParts(
  client: Client,
  target: { bucket: string; key: string; uploadId: string },
  firstPart: number,
  body: Readable,
  opts: StreamUploadOptions & { prefix?: Buffer | undefined; isLast: (received: number) => boolean },
): Promise<AppendResult> {
  const pool = opts.pool ?? new PartPool(opts.partSize, opts.partsInFlight + 1);
  const { prefix } = opts;
  let received = 0;
  let held = Buffer.alloc(0);
  const counted = async function* () {
    if (prefix && prefix.length > 0) yield prefix;
    for await (const chunk of body) {
      received += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  };
  async function* sendable() {
    for await (const buf of fixedParts(counted(), opts.partSize, pool)) {
      if (buf.length === opts.partSize || buf.length >= MIN_PART_SIZE || opts.isLast(received)) yield buf;
      else {
        held = Buffer.from(buf);
        pool.give(buf);
      }
    }
  }
  const parts = await sendParts({ client, ...target, retry: opts.retry }, firstPart, sendable(), body, opts.partsInFlight, pool);
  return { parts, received, held };
}

/**
 * Re-cuts a stream's chunks into parts of exactly `size` bytes (the last one shorter, never empty),
 * each copied into a buffer of `pool` (the short last one is a view of one).
 */
async function* fixedParts(body: AsyncIterable<unknown>, size: number, pool: PartPool): AsyncGenerator<Buffer, void> {
  let buf: Buffer | undefined;
  let filled = 0;
  for await (const chunk of body) {
    let c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    while (c.length > 0) {
      buf ??= pool.take();
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
  if (buf) yield buf.subarray(0, filled);
}
