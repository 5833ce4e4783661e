// Sending a file: resumable with tus 1.0 (POST /v1/tus, PATCH /v1/tus/<videoId>), or the direct
// flow (POST /v1/uploads → presigned PUT straight to storage → POST /v1/uploads/:id/complete)
// with --direct, or when the server has no tus endpoint.
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Api, apiError, CliError, call, httpError, unreachable } from './api.ts';
import { formatBytes, type Progress } from './progress.ts';

export interface UploadOptions {
  title?: string;
  description?: string;
  visibility: 'private' | 'public';
  /** Bytes per tus PATCH request (each one is a resume point). */
  chunkSize: number;
  /** At most this many bytes per second (tus: between chunks; direct: as the file is read). */
  limitRate?: number;
}

/** `500K`, `2M`, `1.5G` or plain bytes, per second. */
export function parseRate(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?$/i.exec(s.trim());
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m?.[2] ?? '').toLowerCase()] ?? 1;
  const rate = m ? Number(m[1]) * unit : Number.NaN;
  if (!(rate >= 1)) throw new CliError(`--limit-rate must look like 500K, 2M or a number of bytes per second: ${s}`, 2);
  return rate;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export interface Uploaded {
  id: string;
  method: 'tus' | 'direct';
}

/** Where the CLI keeps what must outlive one run (the tus upload URLs, for resuming). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REEL_STATE_DIR) return resolve(env.REEL_STATE_DIR);
  const config = env.XDG_CONFIG_HOME ? resolve(env.XDG_CONFIG_HOME) : join(homedir(), '.config');
  return join(config, 'reel');
}

export function fileSize(file: string): number {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CliError(code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${(err as Error).message}`);
  }
  if (!st.isFile()) throw new CliError(`not a file: ${file}`);
  return st.size;
}

/** Raised when the server answers the tus creation request as if it had no tus endpoint. */
class NoTus extends Error {}

/** tus if the server has it, else the direct flow. */
export async function uploadFile(api: Api, token: string, file: string, opts: UploadOptions & { direct: boolean }, progress: Progress): Promise<Uploaded> {
  if (!opts.direct) {
    try {
      return { id: await tusUpload(api, token, file, opts, progress), method: 'tus' };
    } catch (err) {
      if (!(err instanceof NoTus)) throw err;
      progress.line(`${api.url} has no tus endpoint (POST /v1/tus): uploading directly instead (not resumable)`);
    }
  }
  return { id: await directUpload(api, file, opts, progress), method: 'direct' };
}

async function tusUpload(api: Api, token: string, file: string, opts: UploadOptions, progress: Progress): Promise<string> {
  const tus = await import('tus-js-client');
  const { Upload } = tus;
  // the Node build exports a file-backed URL storage that the bundled types do not declare
  const FileUrlStorage = (tus as unknown as { FileUrlStorage: new (path: string) => NonNullable<ConstructorParameters<typeof Upload>[1]['urlStorage']> })
    .FileUrlStorage;
  const size = fileSize(file);
  const dir = stateDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const endpoint = `${api.url}/v1/tus`;
  const filename = basename(file);
  const metadata: Record<string, string> = { filename, visibility: opts.visibility };
  if (opts.title !== undefined) metadata.title = opts.title;
  if (opts.description !== undefined) metadata.description = opts.description;
  const source = createReadStream(resolve(file));
  let creationRefused: { status: number } | undefined;
  let resumedAt: number | undefined;
  let paced: { at: number; from: number } | undefined;

  const url = await new Promise<string>((done, fail) => {
    // an fs.ReadStream: tus-js-client reads the byte ranges it needs from the file's path
    const upload = new Upload(source as unknown as Buffer, {
      endpoint,
      uploadSize: size,
      chunkSize: opts.chunkSize,
      metadata,
      headers: { authorization: `Bearer ${token}` },
      urlStorage: new FileUrlStorage(join(dir, 'uploads.json')),
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      retryDelays: [0, 1000, 3000, 5000, 10_000],
      async onBeforeRequest(req) {
        if (!opts.limitRate || req.getMethod() !== 'PATCH') return;
        // each chunk waits until the bytes before it have had their time at the limited rate
        const offset = Number(req.getHeader('Upload-Offset'));
        if (!Number.isFinite(offset)) return;
        paced ??= { at: Date.now(), from: offset };
        await sleep(paced.at + ((offset - paced.from) / opts.limitRate) * 1000 - Date.now());
      },
      onAfterResponse(req, res) {
        const status = res.getStatus();
        if (req.getMethod() === 'POST' && (status === 404 || status === 405) && !res.getHeader('Tus-Resumable')) creationRefused = { status };
        if (req.getMethod() === 'HEAD' && status >= 200 && status < 300) {
          resumedAt = Number(res.getHeader('Upload-Offset'));
          if (Number.isFinite(resumedAt))
            progress.line(
              `resuming upload at ${Math.floor((resumedAt / Math.max(1, size)) * 100)}% (${formatBytes(resumedAt)} of ${formatBytes(size)} already on the server)`,
            );
        }
      },
      onProgress(sent, total) {
        progress.bytes('upload', sent, total || size);
      },
      onSuccess() {
        progress.bytes('upload', size, size);
        progress.done();
        if (!upload.url) fail(new CliError('the tus server gave no upload URL'));
        else done(upload.url);
      },
      onError(err) {
        progress.done();
        if (creationRefused) return fail(new NoTus());
        fail(tusError(api, err as Error & { originalResponse?: { getStatus(): number; getBody(): string } | null; causingError?: Error | null }));
      },
    });
    upload
      .findPreviousUploads()
      .then((previous) => {
        const latest = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
        if (latest) upload.resumeFromPreviousUpload(latest);
        upload.start();
      })
      .catch(fail);
  }).finally(() => source.destroy());

  const id = new URL(url).pathname.split('/').filter(Boolean).at(-1);
  if (!id) throw new CliError(`unexpected upload URL from the server: ${url}`);
  return decodeURIComponent(id);
}

function tusError(api: Api, err: Error & { originalResponse?: { getStatus(): number; getBody(): string } | null; causingError?: Error | null }): CliError {
  const res = err.originalResponse;
  if (res) {
    const status = res.getStatus();
    const body = res.getBody() ?? '';
    try {
      const parsed = JSON.parse(body) as { error?: { code?: string; message?: string } };
      if (parsed.error) return httpError(status, parsed.error.code, parsed.error.message, 'upload');
    } catch {}
    return httpError(status, undefined, body.trim().slice(0, 500) || undefined, 'upload');
  }
  if (err.causingError) return unreachable(api, { cause: err.causingError });
  return new CliError(`upload failed: ${err.message.replace(/, originated from request.*$/s, '')}`);
}

/** POST /v1/uploads, PUT the bytes to the presigned URL (with progress), then complete. */
async function directUpload(api: Api, file: string, opts: UploadOptions, progress: Progress): Promise<string> {
  const size = fileSize(file);
  const filename = basename(file);
  const created = await call(api, '/v1/uploads', {
    method: 'POST',
    json: {
      filename,
      size,
      visibility: opts.visibility,
      ...(opts.title !== undefined ? { title: opts.title } : {}),
      ...(opts.description !== undefined ? { description: opts.description } : {}),
    },
  });
  if (!created.ok) throw await apiError(created, 'upload');
  const c = (await created.json()) as { videoId: string; url: string; method: 'PUT'; headers?: Record<string, string> };
  await putFile(c.url, file, size, c.headers ?? {}, opts.limitRate, (sent) => progress.bytes('upload', sent, size));
  progress.bytes('upload', size, size);
  progress.done();
  // the catalog learns of the new video a moment after it is created: a 404 here is retried briefly
  const deadline = Date.now() + 15_000;
  for (;;) {
    const done = await call(api, `/v1/uploads/${encodeURIComponent(c.videoId)}/complete`, { method: 'POST' });
    if (done.ok) return c.videoId;
    if (done.status === 404 && Date.now() < deadline) {
      await done.body?.cancel();
      await new Promise((r) => setTimeout(r, 300));
      continue;
    }
    throw await apiError(done, 'upload');
  }
}

/** Streams a file to a presigned URL with a known Content-Length, reporting bytes sent. */
async function putFile(
  url: string,
  file: string,
  size: number,
  headers: Record<string, string>,
  limitRate: number | undefined,
  onProgress: (sent: number) => void,
): Promise<void> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  let sent = 0;
  const started = Date.now();
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      sent += chunk.length;
      onProgress(sent);
      if (!limitRate) return cb(null, chunk);
      sleep(started + (sent / limitRate) * 1000 - Date.now()).then(() => cb(null, chunk));
    },
  });
  await new Promise<void>((done, fail) => {
    const req = request(target, { method: 'PUT', headers: { ...headers, 'content-length': String(size) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 2000) body += d;
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) done();
        else {
          const reason = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? body.trim().slice(0, 200);
          fail(new CliError(`storage refused the upload: HTTP ${status}${reason ? ` ${reason}` : ''}`));
        }
      });
      res.on('error', fail);
    });
    req.on('error', (err) => fail(new CliError(`upload to storage failed: ${err.message}`)));
    pipeline(createReadStream(file), counter, req).catch((err) => fail(new CliError(`upload to storage failed: ${(err as Error).message}`)));
  });
}
