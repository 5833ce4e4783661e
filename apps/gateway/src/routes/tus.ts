import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { isQueryError, isVideoId, Subjects, titleFromFilename } from '@reel/events';
import { keys } from '@reel/storage';
import { EVENTS, type Lock, type Locker, type RequestRelease, Server } from '@tus/server';
import { Type as T } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { publicBaseUrl } from '../config.ts';
import { HttpError } from '../errors.ts';
import { requireViewer } from '../plugins/auth.ts';
import { streamReplicas } from '../plugins/infrastructure.ts';
import { publishUploaded } from '../publish-uploaded.ts';
import { handleTus } from '../tus-request.ts';
import { kvInfoStore, MultipartTusStore, TUS_BUCKET } from '../tus-store.ts';

// set by the gateway after it has checked the bearer token; a client's own values are dropped
const OWNER = 'x-reel-owner';
const VIDEO = 'x-reel-video';
/** How long a resumable upload may take before it is abandoned and removed. */
const TUS_EXPIRY_MS = 24 * 3600 * 1000;
/** A request waits this long for another one on the same upload to let go, then gets a 423. */
const LOCK_WAIT_MS = 3_000;
/** Requests queued behind the one holding an upload; more are refused at once (423). */
const LOCK_QUEUE = 8;
/** How long the owner of an upload is remembered (it never changes), and a miss. */
const OWNER_TTL_MS = 60_000;
const MISS_TTL_MS = 2_000;
const OWNER_CACHE_SIZE = 10_000;
/** tus requests per client per minute, a multiple of the write limit: a big upload is many PATCHes. */
const TUS_RATE_FACTOR = 10;

const locked = () => ({ status_code: 423, body: 'another request is using this upload; try again shortly\n' });

/**
 * One request at a time per upload, the others waiting in line (FIFO) for at most LOCK_WAIT_MS,
 * and no more than LOCK_QUEUE of them: what is not served soon is refused with 423 at once. (The
 * default MemoryLocker re-polls every waiting request on each tick for 30 s: 130 concurrent HEADs
 * on one upload took gigabytes and answered 500.)
 */
class QueueLocker implements Locker {
  readonly held = new Map<string, { release: RequestRelease; waiters: Array<(granted: boolean) => void> }>();
  newLock(id: string): Lock {
    let mine = false;
    return {
      lock: async (signal: AbortSignal, release: RequestRelease) => {
        const entry = this.held.get(id);
        if (!entry) {
          this.held.set(id, { release, waiters: [] });
          mine = true;
          return;
        }
        if (entry.waiters.length >= LOCK_QUEUE || signal.aborted) throw locked();
        // a new request on an upload means the one holding it is probably a dead client: ask it to let go
        void Promise.resolve(entry.release()).catch(() => {});
        const granted = await new Promise<boolean>((resolve) => {
          const done = (ok: boolean) => {
            clearTimeout(timer);
            signal.removeEventListener('abort', onAbort);
            resolve(ok);
          };
          const drop = () => {
            const i = entry.waiters.indexOf(done);
            if (i >= 0) entry.waiters.splice(i, 1);
            done(false);
          };
          const onAbort = () => drop();
          const timer = setTimeout(drop, LOCK_WAIT_MS);
          signal.addEventListener('abort', onAbort, { once: true });
          entry.waiters.push(done);
        });
        if (!granted) throw locked();
        entry.release = release;
        mine = true;
      },
      unlock: async () => {
        if (!mine) return;
        mine = false;
        const entry = this.held.get(id);
        const next = entry?.waiters.shift();
        if (next) next(true);
        else this.held.delete(id);
      },
    };
  }
}

/** A small map whose entries expire, oldest dropped first past `max`. */
function expiringCache<V>(max: number) {
  const entries = new Map<string, { value: V; until: number }>();
  return {
    get(key: string): V | undefined {
      const e = entries.get(key);
      if (!e) return undefined;
      if (e.until > Date.now()) return e.value;
      entries.delete(key);
      return undefined;
    },
    set(key: string, value: V, ttlMs: number) {
      entries.delete(key);
      entries.set(key, { value, until: Date.now() + ttlMs });
      if (entries.size > max) entries.delete(entries.keys().next().value as string);
    },
  };
}

/**
 * Resumable uploads (tus 1.0: creation, resume, termination, expiration) at /v1/tus, each PATCH
 * streamed into one S3 multipart upload in the source bucket (tus-store.ts). The upload URL is /v1/tus/<videoId>; the video is `waiting_upload`
 * until the last byte arrives, then `video.uploaded` starts the pipeline.
 */
export const tusRoutes: FastifyPluginAsyncTypebox<{ nc?: NatsConnection | undefined }> = async (app, opts) => {
  const { storage, publisher, catalog, config, log } = app;
  // each upload's info in a KV bucket every replica shares, kept a day past the upload's expiry
  // (without NATS, as an object beside the upload)
  const infos = opts.nc
    ? kvInfoStore(await new Kvm(opts.nc).create(TUS_BUCKET, { replicas: streamReplicas(config), history: 1, ttl: 2 * TUS_EXPIRY_MS }))
    : undefined;
  const store = new MultipartTusStore({ storage, bucket: storage.sourceBucket, expirationMs: TUS_EXPIRY_MS, infos, log });
  // the last parts of answered PATCHes are settled in the infos before the connections close
  app.addHook('onClose', () => store.drain());
  const base = publicBaseUrl(config);
  const owners = expiringCache<string>(OWNER_CACHE_SIZE);
  const misses = expiringCache<true>(OWNER_CACHE_SIZE);
  const lookups = new Map<string, Promise<boolean>>();
  const videoOf = (key: string) => key.split('/')[1] ?? '';
  const tus = new Server({
    path: '/v1/tus',
    datastore: store,
    maxSize: config.MAX_UPLOAD_BYTES,
    respectForwardedHeaders: true,
    locker: new QueueLocker(),
    namingFunction: (req) => keys.tusUpload(req.headers.get(VIDEO) ?? ''),
    generateUrl: (_req, { id }) => `${base}/v1/tus/${videoOf(id)}`,
    getFileIdFromRequest: (_req, last) => (isVideoId(last) ? keys.tusUpload(last) : undefined),
    onResponseError: (_req, err) => {
      if (err instanceof Error) log.error({ err }, 'tus request failed');
      return undefined;
    },
    onUploadCreate: async (req, upload) => {
      const ownerId = req.headers.get(OWNER) ?? '';
      // known here before the catalog has projected video.created: the first PATCH needs no wait
      owners.set(videoOf(upload.id), ownerId, OWNER_TTL_MS);
      const meta = upload.metadata ?? {};
      const visibility = meta.visibility === 'public' || meta.visibility === 'unlisted' ? meta.visibility : 'private';
      await publisher.publish(
        Subjects.created,
        {
          videoId: videoOf(upload.id),
          ownerId,
          title: titleFromFilename(meta.title ?? undefined, meta.filename ?? undefined),
          description: (meta.description ?? '').slice(0, 5000),
          visibility,
          upload: { method: 'tus', expiresAt: new Date(Date.now() + TUS_EXPIRY_MS).toISOString() },
        },
        { id: `${videoOf(upload.id)}.created` },
      );
      return {};
    },
    onUploadFinish: async (req, upload) => {
      const videoId = videoOf(upload.id);
      const ownerId = req.headers.get(OWNER) ?? '';
      const record = await catalog.get(videoId, ownerId);
      await publishUploaded(publisher, record, {
        bucket: storage.sourceBucket,
        key: upload.id,
        size: upload.size ?? upload.offset,
        ...(upload.metadata?.filename ? { filename: upload.metadata.filename.slice(0, 512) } : {}),
      });
      return { headers: { 'Reel-Video-Id': videoId } };
    },
  });
  tus.on(EVENTS.POST_TERMINATE, (req, _res, id) => {
    const ownerId = req.headers.get(OWNER) ?? '';
    publisher
      .publish(Subjects.deleted, { videoId: videoOf(id), ownerId }, { id: `${videoOf(id)}.deleted` })
      .catch((err) => log.error({ err }, 'could not publish video.deleted for a terminated upload'));
  });

  // tus reads the body itself
  app.addContentTypeParser('application/offset+octet-stream', (_req, _payload, done) => done(null));

  /**
   * Whether `viewer` owns upload `id`: one catalog query per upload and viewer, shared by
   * concurrent requests and remembered (an owner for a minute, a miss for two seconds), so a
   * burst of HEADs, on one's own upload or on ids that do not exist, costs one lookup.
   */
  const owns = async (id: string, viewer: string): Promise<boolean> => {
    const owner = owners.get(id);
    if (owner !== undefined) return owner === viewer;
    const key = `${id} ${viewer}`;
    if (misses.get(key)) return false;
    let pending = lookups.get(key);
    if (!pending) {
      pending = catalog
        .get(id, viewer)
        .then(
          (record) => {
            owners.set(id, record.ownerId, OWNER_TTL_MS);
            return record.ownerId === viewer;
          },
          (err: unknown) => {
            if (!isQueryError(err) || err.code !== 'not_found') throw err;
            misses.set(key, true, MISS_TTL_MS);
            return false;
          },
        )
        .finally(() => lookups.delete(key));
      lookups.set(key, pending);
    }
    return pending;
  };

  /** Sets (or with no value, drops) a header the tus handlers will see (they read rawHeaders). */
  const setHeader = (raw: FastifyRequest['raw'], name: string, value?: string) => {
    const kept: string[] = [];
    for (let i = 0; i + 1 < raw.rawHeaders.length; i += 2) {
      if (raw.rawHeaders[i]?.toLowerCase() !== name) kept.push(raw.rawHeaders[i] as string, raw.rawHeaders[i + 1] as string);
    }
    delete raw.headers[name];
    if (value !== undefined) {
      kept.push(name, value);
      raw.headers[name] = value;
    }
    raw.rawHeaders.splice(0, raw.rawHeaders.length, ...kept);
  };

  /** Checks the caller (and the upload's owner), then hands the request to tus; `id` is the upload's, if the URL names one. */
  const handle = async (req: FastifyRequest, reply: FastifyReply, id?: string) => {
    setHeader(req.raw, OWNER);
    setHeader(req.raw, VIDEO);
    if (req.method !== 'OPTIONS') {
      const ownerId = requireViewer(req);
      if (id) {
        if (!isVideoId(id)) throw new HttpError(404, 'not_found', 'no such upload');
        if (!(await owns(id, ownerId))) throw new HttpError(404, 'not_found', 'no such upload');
      } else if (req.method === 'POST') {
        setHeader(req.raw, VIDEO, randomUUID());
      }
      setHeader(req.raw, OWNER, ownerId);
    }
    reply.hijack();
    await handleTus(tus, req.raw, reply.raw);
  };
  const schema = { hide: true };
  app.route({
    method: ['POST', 'OPTIONS'],
    url: '/v1/tus',
    schema,
    config: app.limits.write,
    handler: (req, reply) => handle(req, reply),
  });
  app.route({
    method: ['HEAD', 'PATCH', 'DELETE', 'OPTIONS'],
    url: '/v1/tus/:id',
    schema: { ...schema, params: T.Object({ id: T.String() }) },
    config: { rateLimit: { max: config.RATE_LIMIT_WRITES_PER_MIN * TUS_RATE_FACTOR, timeWindow: 60_000 } },
    handler: (req, reply) => handle(req, reply, req.params.id),
  });
};
