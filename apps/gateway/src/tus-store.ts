import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { KV } from '@nats-io/kv';
import type { Logger } from '@reel/events';
import type { OpenMultipart, Storage, Unanswered, UploadedPart } from '@reel/storage';
import { DataStore, ERRORS, Upload } from '@tus/server';
import { announcedLength } from './tus-request.ts';

/**
 * What a resumable upload is, kept in an InfoStore (JSON): any gateway replica, or this one after
 * a restart, continues the upload from it. `offset` counts every byte accepted: those in
 * `parts` (stored in the open multipart upload), in `unanswered` (parts whose every byte was sent,
 * the store's answer not yet in) and the `tail` bytes held back in `<id>.tail-<offset>`.
 */
export interface Info {
  readonly id: string;
  readonly size?: number | undefined;
  readonly offset: number;
  readonly metadata: Record<string, string | null>;
  readonly creationDate: string;
  readonly uploadId: string;
  readonly parts: readonly UploadedPart[];
  /** Parts after `parts`, sent but not yet answered when the PATCH that sent them answered its client. */
  readonly unanswered?: readonly { readonly part: number; readonly size: number }[] | undefined;
  readonly tail: number;
  readonly done: boolean;
}

/**
 * Where the uploads' info lives. Every gateway replica must see the same: a JetStream KV bucket
 * (a read or write takes a millisecond; each PATCH does both) or, for a gateway without NATS,
 * an object beside the upload's bytes.
 */
export interface InfoStore {
  get(id: string): Promise<Info | undefined>;
  put(info: Info): Promise<void>;
  delete(id: string): Promise<void>;
}

/** The bucket of kvInfoStore. */
export const TUS_BUCKET = 'TUS_UPLOADS';

/** Upload ids are keys (`sources/<videoId>/tus`): KV keys allow the slashes. */
export function kvInfoStore(kv: KV): InfoStore {
  return {
    async get(id) {
      const e = await kv.get(id);
      return e && e.operation === 'PUT' ? (e.json() as Info) : undefined;
    },
    async put(info) {
      await kv.put(info.id, JSON.stringify(info));
    },
    async delete(id) {
      await kv.delete(id);
    },
  };
}

const infoKey = (id: string) => `${id}.info`;

/** The info as an object `<id>.info` in `bucket`. */
export function objectInfoStore(storage: Storage, bucket: string): InfoStore {
  return {
    async get(id) {
      const bytes = await storage.getBytes(bucket, infoKey(id));
      return bytes ? (JSON.parse(bytes.toString('utf8')) as Info) : undefined;
    },
    async put(info) {
      await storage.putBytes(bucket, infoKey(info.id), Buffer.from(JSON.stringify(info)), 'application/json');
    },
    async delete(id) {
      await storage.remove(bucket, infoKey(id));
    },
  };
}
/** Named after the offset it ends at: a new tail never overwrites the one the info still points to. */
const tailKey = (id: string, offset: number) => `${id}.tail-${offset}`;

/** How long the info a request just read (getUpload) serves its write without reading it again. */
const FRESH_MS = 2_000;
const FRESH_MAX = 1_000;

const missing = (err: unknown) => (err as { status_code?: number }).status_code === 404;

/**
 * How long a PATCH waits for the answers of parts an earlier PATCH left unanswered, sent by another
 * replica or by one that died, before giving them up. Giving up on parts that were stored after all
 * costs only their resending (the client resumes from the offset before them).
 */
const ANSWER_WAIT_MS = 10_000;
const ANSWER_POLL_MS = 100;

/** The parts an earlier PATCH was answered for were not stored: the client asks for the offset again and resends from there. */
export const LOST_PARTS = {
  status_code: 409,
  body: 'the last bytes of an earlier request could not be stored: ask for the offset (HEAD) and resume from it\n',
};

const sameParts = (a: Info['unanswered'] = [], b: Info['unanswered'] = []) =>
  a.length === b.length && a.every((p, i) => p.part === b[i]?.part && p.size === b[i]?.size);
const sizeOf = (parts: Info['unanswered'] = []) => parts.reduce((n, p) => n + p.size, 0);

/**
 * A tus DataStore that streams each PATCH body straight into one S3 multipart upload, kept open
 * from the upload's creation to its last byte (packages/storage's appendParts; nothing goes
 * through the gateway's disk). A PATCH with a Content-Length (every tus client's) is sent as parts
 * of up to 64 MiB written as its bytes arrive, no buffer and no copy; one without is cut into
 * pooled 8 MiB buffers, a few in flight.
 *
 * S3 refuses a part under 5 MiB unless it is the last, and a tus client may stop a request at any
 * byte: a request under 5 MiB that does not end the upload (or what is left after the last full
 * buffer of one without a length) is held back as a small object that the next PATCH sends first.
 * A client that goes away mid-request keeps the parts completed before (its next HEAD says where
 * to resume); the bytes of the part it cut short are sent again.
 *
 * The info is written after the bytes it describes: a gateway dying mid-request leaves an info
 * behind the truth, the client resumes from its offset and the same part numbers are sent again
 * (S3 keeps the last). Requests on one upload are serialised by the server's locker, per gateway.
 *
 * A PATCH that neither ends the upload nor holds bytes back answers its client once every byte is
 * sent to the store, not once the store has answered for its last parts (Swift answers 50–150 ms
 * after a part's last byte, a wait a client in 50 MiB chunks paid at every PATCH). Those parts are
 * in the info as `unanswered` until their answers come (the info is then written again). The next
 * PATCH sends its bytes meanwhile and, before it writes the info, needs those answers: from this
 * gateway, or, when another replica sent them, S3's list of the upload's parts. Parts that failed
 * are given up: the offset goes back to before them and the next PATCH answers 409 (LOST_PARTS);
 * the client asks for the offset again and resends from there, as after any failed request.
 */
export class MultipartTusStore extends DataStore {
  readonly #storage: Storage;
  readonly #bucket: string;
  readonly #expirationMs: number;
  readonly #infos: InfoStore;
  /** The info getUpload read, for the write of the same PATCH (tus asks for both, back to back, under the lock). */
  readonly #fresh = new Map<string, { info: Info; at: number }>();
  /** Per upload, the settling of the parts this gateway left unanswered (never rejects). */
  readonly #answering = new Map<string, Promise<void>>();
  readonly #log: Logger | undefined;

  constructor(opts: { storage: Storage; bucket: string; expirationMs: number; infos?: InfoStore | undefined; log?: Logger | undefined }) {
    super();
    this.#log = opts.log;
    this.#storage = opts.storage;
    this.#bucket = opts.bucket;
    this.#expirationMs = opts.expirationMs;
    this.#infos = opts.infos ?? objectInfoStore(opts.storage, opts.bucket);
    this.extensions = ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'expiration'];
  }

  override async create(upload: Upload): Promise<Upload> {
    upload.creation_date = new Date().toISOString();
    const target = await this.#storage.startMultipart(this.#bucket, upload.id, upload.metadata?.filetype ?? undefined);
    await this.#save({
      id: upload.id,
      size: upload.size,
      offset: 0,
      metadata: upload.metadata ?? {},
      creationDate: upload.creation_date,
      uploadId: target.uploadId,
      parts: [],
      tail: 0,
      done: false,
    });
    if (upload.size === 0) await this.#finish(await this.#load(upload.id), []);
    upload.storage = { type: 's3', path: upload.id, bucket: this.#bucket };
    return upload;
  }

  override async write(body: Readable, id: string, offset: number): Promise<number> {
    const fresh = this.#fresh.get(id);
    this.#fresh.delete(id);
    const info = fresh && fresh.at > Date.now() - FRESH_MS ? fresh.info : await this.#load(id);
    if (info.offset !== offset) throw ERRORS.INVALID_OFFSET;
    if (info.done) throw ERRORS.INVALID_OFFSET;
    const target = this.#target(info);
    let prefix: Buffer | undefined;
    if (info.tail > 0) {
      prefix = await this.#storage.getBytes(this.#bucket, tailKey(id, info.offset));
      if (prefix?.length !== info.tail) throw new Error(`the ${info.tail} bytes held back for upload ${id} are missing`);
    }
    const isLast = (received: number) => info.size !== undefined && offset + received >= info.size;
    // the request's length (never past the upload's): its parts are sent as the bytes arrive
    const announced = announcedLength();
    const coming = announced === undefined || info.size === undefined ? announced : Math.min(announced, info.size - offset);
    const remaining = coming === undefined ? undefined : (consumed: number) => coming - consumed;
    const first = info.parts.length + (info.unanswered?.length ?? 0) + 1;
    // a request that ends the upload waits for every answer anyway (and its last part is split to shorten that wait)
    const early = coming === undefined || !isLast(coming);
    const result = await this.#storage.appendParts(target, first, body, { prefix, isLast, remaining, early });
    const { received, held } = result;
    const end = offset + received;
    const last = isLast(received);
    // nothing arrived (the held-back bytes came back as they were): nothing changes
    if (received === 0 && !last && !result.unanswered) return offset;
    const before = await this.#answered(info);
    let parts = result.parts;
    let open = result.unanswered;
    // the end of the upload, and bytes held back after the parts, wait for every answer
    if (open && (last || held.length > 0)) {
      parts = [...parts, ...(await open.answers)];
      open = undefined;
    }
    const all = [...before, ...parts];
    if (held.length > 0) await this.#storage.putBytes(this.#bucket, tailKey(id, end), held);
    const next: Info = { ...info, offset: end, parts: all, unanswered: open?.parts ?? [], tail: held.length };
    if (last) await this.#finish(next, all);
    else await this.#save(next);
    if (open) this.#awaitAnswers(next, open);
    if (info.tail > 0) await this.#storage.remove(this.#bucket, tailKey(id, info.offset));
    return end;
  }

  /** Resolves once the parts this gateway left unanswered are settled in the infos (a gateway's shutdown waits for it). */
  async drain(): Promise<void> {
    await Promise.all(this.#answering.values());
  }

  override async getUpload(id: string): Promise<Upload> {
    const info = await this.#load(id);
    // HEADs leave entries nobody takes: forget them all past a bound
    if (this.#fresh.size >= FRESH_MAX) this.#fresh.clear();
    this.#fresh.set(id, { info, at: Date.now() });
    return new Upload({
      id,
      size: info.size,
      offset: info.offset,
      metadata: info.metadata,
      creation_date: info.creationDate,
      storage: { type: 's3', path: id, bucket: this.#bucket },
    });
  }

  override async declareUploadLength(id: string, size: number): Promise<void> {
    await this.#save({ ...(await this.#load(id)), size });
  }

  /** Termination: the multipart upload, the object, the info and any held-back bytes. */
  override async remove(id: string): Promise<void> {
    const info = await this.#load(id).catch((err: unknown) => {
      if (missing(err)) return undefined;
      throw err;
    });
    if (info && !info.done) await this.#storage.abortMultipart(this.#target(info));
    await this.#infos.delete(id);
    // the key and everything named after it (`.tail-…`)
    await this.#storage.removePrefix(this.#bucket, id);
  }

  /**
   * Expired uploads are not swept here: the catalog's sweeper deletes a video whose upload expired
   * (its objects go with video.deleted) and the gateway's upload sweeper aborts the multipart
   * upload a day later (upload-sweeper.ts). PATCH and HEAD answer 410 once it has expired.
   */
  override async deleteExpired(): Promise<number> {
    return 0;
  }

  override getExpiration(): number {
    return this.#expirationMs;
  }

  #target(info: Info): OpenMultipart {
    return { bucket: this.#bucket, key: info.id, uploadId: info.uploadId };
  }

  /** Completes the multipart upload (an upload with no bytes is an empty object instead). */
  async #finish(info: Info, parts: readonly UploadedPart[]) {
    const target = this.#target(info);
    if (parts.length === 0) {
      await this.#storage.abortMultipart(target);
      await this.#storage.putBytes(this.#bucket, info.id, Buffer.alloc(0));
    } else await this.#storage.completeMultipart(target, parts);
    await this.#save({ ...info, parts, tail: 0, done: true });
  }

  /**
   * `info`'s parts with those an earlier PATCH left unanswered, once they are answered: by this
   * gateway, or (sent by another replica, or by one that died) as S3 lists them. Throws LOST_PARTS
   * when they were not stored, after setting the offset back to before them.
   */
  async #answered(info: Info): Promise<readonly UploadedPart[]> {
    const open = info.unanswered ?? [];
    if (open.length === 0) return info.parts;
    const own = this.#answering.get(info.id);
    if (own) await own;
    const deadline = Date.now() + ANSWER_WAIT_MS;
    for (;;) {
      const now = await this.#infos.get(info.id);
      if (!now || now.done || now.offset !== info.offset) throw LOST_PARTS;
      if (!now.unanswered?.length) return now.parts;
      const listed = await this.#storage.listParts(this.#target(info));
      const found = open.map((o) => listed.find((p) => p.part === o.part && p.size === o.size));
      if (found.every((p) => p !== undefined)) return [...now.parts, ...found];
      // this gateway's answers are in and say otherwise, or the replica that sent them is gone
      if (own || Date.now() >= deadline) {
        await this.#rollBack(now);
        throw LOST_PARTS;
      }
      await delay(ANSWER_POLL_MS);
    }
  }

  /** Writes the parts' answers into the info when they come, or gives the parts up when they fail. */
  #awaitAnswers(info: Info, open: Unanswered) {
    const settle: Promise<void> = open.answers
      .then(
        (answers) => this.#update(info, (now) => ({ ...now, parts: [...now.parts, ...answers], unanswered: [] })),
        async (err: unknown) => {
          this.#log?.warn({ err, upload: info.id, parts: open.parts }, 'parts of an answered tus PATCH were not stored: the client resends them');
          await this.#rollBack(info);
        },
      )
      .catch((err: unknown) => this.#log?.warn({ err, upload: info.id }, 'could not write the answers of a tus PATCH (the next PATCH asks S3)'))
      .finally(() => {
        if (this.#answering.get(info.id) === settle) this.#answering.delete(info.id);
      });
    this.#answering.set(info.id, settle);
  }

  /** Sets the offset back to before the unanswered parts of `info` (still the info's: nothing moved on). */
  #rollBack(info: Info) {
    return this.#update(info, (now) => ({ ...now, offset: now.offset - sizeOf(now.unanswered), unanswered: [] }));
  }

  /** Writes `change(now)` when the info still has `expected`'s offset and unanswered parts (a later PATCH, or a replica, may have moved on). */
  async #update(expected: Info, change: (now: Info) => Info) {
    const now = await this.#infos.get(expected.id);
    if (!now || now.done || now.offset !== expected.offset || !sameParts(now.unanswered, expected.unanswered)) return;
    await this.#save(change(now));
  }

  async #load(id: string): Promise<Info> {
    const info = await this.#infos.get(id);
    if (!info) throw ERRORS.FILE_NOT_FOUND;
    return info;
  }

  async #save(info: Info) {
    // what getUpload read is no longer the truth (declareUploadLength between it and the write)
    this.#fresh.delete(info.id);
    await this.#infos.put(info);
  }
}
