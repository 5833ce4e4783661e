import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { Client } from 'minio';
import { type RetryPolicy, retrying } from './retry.ts';

/**
 * A lower bound of the bytes a source will still yield once `consumed` of them were read (known
 * from a Content-Length): while it is at least a part, parts are streamed instead of buffered.
 */
export type Remaining = (consumed: number) => number;

/** An open multipart upload. */
export interface PartTarget {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
}

/**
 * Starts one part whose length is known before its first byte: the caller writes exactly
 * `length` bytes to `body` and ends it; `etag` settles with the store's answer.
 */
export type PartStreamer = (target: PartTarget, part: number, length: number) => { body: Writable; etag: Promise<string> };

export interface StreamUploadOptions {
  /** Bytes per buffered part (S3: ≥ 5 MiB except the last). Memory held is about partSize × (partsInFlight + 1). */
  readonly partSize: number;
  /** Parts sent at once, for throughput. */
  readonly partsInFlight: number;
  readonly retry: RetryPolicy;
  readonly contentType?: string | undefined;
  /** Where part buffers come from and go back to (shared by the uploads of one Storage). */
  readonly pool?: PartPool;
  /** How much of the source is sure to come (see Remaining); without it every part is buffered. */
  readonly remaining?: Remaining | undefined;
  /** Sends a part as its bytes arrive (required with `remaining`). */
  readonly streamPart?: PartStreamer | undefined;
  /** Bytes per streamed part (nothing is held for them, so they may be large: fewer parts, faster stores). */
  readonly streamedPartSize?: number | undefined;
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
/** Streamed parts hold no memory: large ones make fewer requests (and a part-by-part store such as Swift goes at nearly a PUT's speed). */
export const DEFAULT_STREAMED_PART_SIZE = 64 * 1024 * 1024;

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

interface Target extends PartTarget {
  readonly client: Client;
  readonly retry: RetryPolicy;
}

/** The source ended before the bytes its Content-Length promised (its `received`: bytes read). */
export class SourceEndedError extends Error {
  override name = 'SourceEndedError';
  readonly received: number;
  constructor(received: number, missing: number) {
    super(`the body ended ${missing} bytes before the length it announced`);
    this.received = received;
  }
}

/** A stream read chunk by chunk, with bytes given back (a chunk cut at a part's end) read first. */
class Source implements AsyncIterable<Buffer> {
  readonly #chunks: AsyncIterator<unknown>;
  readonly #back: Buffer[] = [];
  /** Bytes read from the stream (given-back bytes and the prefix not counted). */
  consumed = 0;
  /** Bytes in hand: the prefix and the bytes given back. */
  inHand = 0;
  constructor(body: AsyncIterable<unknown>, prefix?: Buffer) {
    this.#chunks = body[Symbol.asyncIterator]();
    if (prefix && prefix.length > 0) this.unread(prefix);
  }
  async read(): Promise<Buffer | undefined> {
    const back = this.#back.pop();
    if (back) {
      this.inHand -= back.length;
      return back;
    }
    const next = await this.#chunks.next();
    if (next.done) return undefined;
    const c = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as string);
    this.consumed += c.length;
    return c;
  }
  unread(buf: Buffer): void {
    this.#back.push(buf);
    this.inHand += buf.length;
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (let c = await this.read(); c; c = await this.read()) yield c;
  }
}

/** Writes the next `length` bytes of `source` to `body` (with backpressure) and ends it; stops when `answer` fails. */
async function writePart(source: Source, body: Writable, length: number, answer: Promise<unknown>): Promise<void> {
  const failed = answer.then(
    () => new Promise<never>(() => {}),
    (err: unknown) => Promise.reject(err),
  );
  let left = length;
  while (left > 0) {
    const c = await source.read();
    if (!c) throw new SourceEndedError(source.consumed, left);
    if (c.length > left) source.unread(c.subarray(left));
    const piece = c.length > left ? c.subarray(0, left) : c;
    left -= piece.length;
    if (!body.write(piece)) await Promise.race([once(body, 'drain'), failed]);
  }
  body.end();
}

/** A part under way: its number, its size, and the store's answer once started. */
interface Job {
  readonly part: number;
  readonly size: number;
  start(): Promise<UploadedPart>;
}

const sendPart = async (t: Target, part: number, buf: Buffer): Promise<UploadedPart> => {
  const r = await retrying(`UploadPart ${part}`, t.retry, () =>
    t.client.uploadPart({ bucketName: t.bucket, objectName: t.key, uploadID: t.uploadId, partNumber: part, headers: {} }, buf),
  );
  return { part, etag: r.etag, size: buf.length };
};

/**
 * The parts of `source`, numbered from `firstPart`. While the source is sure to hold at least
 * MIN_PART_SIZE more bytes (opts.remaining), each part is streamed as it is read (its length
 * known in advance: no buffer, no copy); the rest is cut into buffers of `partSize` from `pool`
 * (or, when given, taken from `buffered`, and nothing streamed). A buffered part shorter than MIN_PART_SIZE is only sent when `keep` says so.
 */
async function* partsOf(
  t: Target,
  firstPart: number,
  source: Source,
  opts: StreamUploadOptions & { buffered?: AsyncGenerator<Buffer, void> | undefined; keep: (buf: Buffer) => boolean; early?: boolean | undefined },
  pool: PartPool,
): AsyncGenerator<Job, void> {
  let n = firstPart;
  const { remaining, streamPart } = opts;
  const big = opts.streamedPartSize ?? DEFAULT_STREAMED_PART_SIZE;
  while (remaining && streamPart && !opts.buffered) {
    const sure = source.inHand + Math.max(0, remaining(source.consumed));
    if (sure < MIN_PART_SIZE) break;
    // no short part after this one when the rest is sure to follow
    let size = sure < big + MIN_PART_SIZE ? sure : big;
    // the last of what is sure goes as two parts, the second a quarter of it: the store finishes
    // the first (Swift: ~3 ms per MiB after its last byte) while the second is still being sent,
    // and the request's answer waits only for the small one (with `early` it waits for none:
    // one part, as fewer parts are cheaper for the store)
    if (size === sure && sure >= 4 * MIN_PART_SIZE && !opts.early) size = sure - Math.max(MIN_PART_SIZE, Math.floor(sure / 4));
    const part = n++;
    const { body, etag } = streamPart(t, part, size);
    // observed here until the caller takes it (a failure must not go unhandled meanwhile)
    etag.catch(() => {});
    try {
      await writePart(source, body, size, etag);
    } catch (err) {
      body.destroy();
      throw err;
    }
    yield { part, size, start: async () => ({ part, etag: await etag, size }) };
  }
  for await (const buf of opts.buffered ?? fixedParts(source, opts.partSize, pool)) {
    if (buf.length < MIN_PART_SIZE && !opts.keep(buf)) continue;
    const part = n++;
    yield {
      part,
      size: buf.length,
      start: () => sendPart(t, part, buf).finally(() => pool.give(buf)),
    };
  }
}

/** Parts whose bytes are all sent but whose answers had not come when the source ended. */
export interface Unanswered {
  /** Their numbers and sizes, in order. */
  readonly parts: readonly { readonly part: number; readonly size: number }[];
  /** Settles with the store's answers (ETags), or rejects with the first failure. */
  readonly answers: Promise<UploadedPart[]>;
}

/**
 * Sends the parts `jobs` makes, at most `partsInFlight` at once (the source is read no further
 * ahead than one part), each buffered part retried on its own; collects the sent ones in `done`.
 * The first failure destroys `body` (its producer stops) and rejects once the parts in flight
 * have settled. With `early`, a source read to its end resolves at once: the parts still awaiting
 * their answers come back as `unanswered` instead of being waited for.
 */
async function sendParts(
  jobs: AsyncGenerator<Job, void>,
  body: Readable,
  partsInFlight: number,
  done: UploadedPart[],
  early = false,
): Promise<{ sent: UploadedPart[]; unanswered?: Unanswered | undefined }> {
  const inFlight = new Set<Promise<void>>();
  const waiting = new Map<number, { part: number; size: number; answer: Promise<UploadedPart> }>();
  let failure: { err: unknown } | undefined;
  let returned = false;
  try {
    for (;;) {
      const next = await jobs.next();
      if (next.done || failure) break;
      if (next.value.part > MAX_PARTS) throw new RangeError(`more than ${MAX_PARTS} parts`);
      while (inFlight.size >= partsInFlight) await Promise.race(inFlight);
      if (failure) break;
      const { part, size } = next.value;
      const answer = next.value.start();
      waiting.set(part, { part, size, answer });
      const p: Promise<void> = answer
        .then((r) => {
          waiting.delete(part);
          done.push(r);
        })
        .catch((err: unknown) => {
          failure ??= { err };
          // stop the producer: this request's bytes are lost anyway (not once it was answered)
          if (!returned) body.destroy();
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  } catch (err) {
    failure ??= { err };
  } finally {
    if (!(early && !failure)) await Promise.allSettled(inFlight);
    await jobs.return();
  }
  if (failure) throw failure.err;
  returned = true;
  const sent = done.sort((a, b) => a.part - b.part);
  if (waiting.size === 0) return { sent };
  const rest = [...waiting.values()].sort((a, b) => a.part - b.part);
  const answers = Promise.all(rest.map((w) => w.answer));
  // observed here until the caller takes it
  answers.catch(() => {});
  return { sent: [...sent], unanswered: { parts: rest.map(({ part, size }) => ({ part, size })), answers } };
}

/**
 * Streams `body` to `bucket/key` in parts, a few in flight at a time, reading no further ahead
 * than that (so a slow store slows the source instead of filling memory): parts of
 * `streamedPartSize` sent as they are read while `remaining` says the source holds them, the rest
 * in buffered parts of `partSize`. Less than one buffered part is sent as one PutObject (an empty
 * stream as an empty object). Each buffered part is retried on its own (the source is never read
 * twice); a streamed one cannot be. Any failure, the source's included, rejects and aborts the
 * multipart upload, so nothing incomplete is left behind; the source is destroyed when the store
 * fails, so its producer stops too. Resolves with the number of bytes stored.
 */
export async function uploadStream(client: Client, bucket: string, key: string, body: Readable, opts: StreamUploadOptions): Promise<number> {
  const meta = opts.contentType ? { 'Content-Type': opts.contentType } : {};
  const pool = opts.pool ?? new PartPool(opts.partSize, opts.partsInFlight + 1);
  const source = new Source(body);
  let buffered: AsyncGenerator<Buffer, void> | undefined;
  if (!(opts.streamPart && (opts.remaining?.(0) ?? 0) >= MIN_PART_SIZE)) {
    const head = fixedParts(source, opts.partSize, pool);
    const first = await head.next();
    const second = first.done ? first : await head.next();
    if (second.done) {
      const buf = first.done ? Buffer.alloc(0) : first.value;
      await retrying('PutObject', opts.retry, () => client.putObject(bucket, key, buf, buf.length, meta));
      pool.give(buf);
      return buf.length;
    }
    buffered = (async function* () {
      yield first.value as Buffer;
      yield second.value;
      yield* head;
    })();
  }

  const uploadId = await retrying('CreateMultipartUpload', opts.retry, () => client.initiateNewMultipartUpload(bucket, key, meta));
  const target = { client, bucket, key, uploadId, retry: opts.retry };
  try {
    const { sent } = await sendParts(partsOf(target, 1, source, { ...opts, buffered, keep: () => true }, pool), body, opts.partsInFlight, []);
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
  /** Bytes of the stream accepted: in the parts sent, or in `held` (`prefix` not counted). */
  readonly received: number;
  /** The bytes after the last part, not sent (under MIN_PART_SIZE, not the end): the caller keeps them for the next request. */
  readonly held: Buffer;
  /** With `early`: the parts after `parts`, all their bytes sent, whose answers had not come yet. */
  readonly unanswered?: Unanswered | undefined;
}

/**
 * Adds `prefix`, then `body`, to the open multipart upload `uploadId` as parts (streamed while
 * `remaining` says they will be filled, else buffered parts of `partSize`), numbered from
 * `firstPart`: a resumable upload keeps one multipart upload open across requests. S3 allows a
 * short part only at the end: what is left after the last full part is sent as one more part when
 * `isLast(received)` says the upload ends here or it is at least MIN_PART_SIZE, and otherwise
 * comes back in `held`. A body that ends before `remaining` promised (the client went away) keeps
 * the parts sent before the one it cut short: `received` says how much of the stream they hold.
 * On a failure of the store rejects; the parts already sent stay in the upload (sending the same
 * numbers again replaces them). With `early`, resolves once the body is read to its end and every
 * byte is handed to the store: the last parts' answers come in `unanswered`.
 */
export async function appendParts(
  client: Client,
  target: PartTarget,
  firstPart: number,
  body: Readable,
  opts: StreamUploadOptions & { prefix?: Buffer | undefined; isLast: (received: number) => boolean; early?: boolean | undefined },
): Promise<AppendResult> {
  const pool = opts.pool ?? new PartPool(opts.partSize, opts.partsInFlight + 1);
  const prefix = opts.prefix ?? Buffer.alloc(0);
  const source = new Source(body, prefix);
  let held = Buffer.alloc(0);
  const keep = (buf: Buffer) => {
    if (opts.isLast(source.consumed)) return true;
    held = Buffer.from(buf);
    pool.give(buf);
    return false;
  };
  const done: UploadedPart[] = [];
  const t = { client, ...target, retry: opts.retry };
  let result: { sent: UploadedPart[]; unanswered?: Unanswered | undefined };
  try {
    result = await sendParts(partsOf(t, firstPart, source, { ...opts, keep }, pool), body, opts.partsInFlight, done, opts.early);
  } catch (err) {
    if (!(err instanceof SourceEndedError)) throw err;
    const stored = done.reduce((n, p) => n + p.size, 0);
    // the part cut short is lost; the held-back prefix stays held when nothing was sent
    return { parts: done.sort((a, b) => a.part - b.part), received: stored > 0 ? stored - prefix.length : 0, held: stored > 0 ? Buffer.alloc(0) : prefix };
  }
  return { parts: result.sent, received: source.consumed, held, unanswered: result.unanswered };
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
