// The public HTTP API, as any client sees it: REEL_URL, a bearer token, JSON errors.
import type { VideoStatus, Visibility } from '@reel/vocabulary';

/** An error meant for the user: printed as `reel: <message>`, then the process exits with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface Api {
  /** REEL_URL without a trailing slash. */
  url: string;
  token: string | undefined;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export function apiFromEnv(env: NodeJS.ProcessEnv = process.env): Api {
  const raw = (env.REEL_URL ?? '').trim() || DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`REEL_URL is not a URL: ${raw}`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`REEL_URL must be http(s): ${raw}`, 2);
  const token = (env.REEL_TOKEN ?? '').trim() || undefined;
  return { url: url.href.replace(/\/+$/, ''), token };
}

/** The token, or a clear error saying how to get one. */
export function requireToken(api: Api): string {
  if (api.token) return api.token;
  throw new CliError('REEL_TOKEN is not set. Export the token `npm start` printed (export REEL_TOKEN=…), or mint a development one with `npx reel token`.', 2);
}

export interface ApiErrorBody {
  error?: { code?: string; message?: string };
}

/** Turns a non-2xx response into a CliError with the API's own code and message. */
export async function apiError(res: Response, what?: string): Promise<CliError> {
  const text = await res.text().catch(() => '');
  let code: string | undefined;
  let message: string | undefined;
  try {
    const body = JSON.parse(text) as ApiErrorBody;
    code = body.error?.code;
    message = body.error?.message;
  } catch {
    message = text.trim().slice(0, 500) || undefined;
  }
  return httpError(res.status, code, message, what);
}

export function httpError(status: number, code: string | undefined, message: string | undefined, what?: string): CliError {
  const prefix = what ? `${what}: ` : '';
  let text = `${prefix}${message ?? `HTTP ${status}`} (${code ?? 'http_error'}, HTTP ${status})`;
  if (status === 401)
    text += '\nThe token in REEL_TOKEN was refused: it may have expired or come from another server. `npx reel token` mints a development one.';
  return new CliError(text);
}

/** fetch against the API with the bearer token; a network failure becomes a readable CliError. */
export async function call(api: Api, path: string, init: RequestInit & { json?: unknown; auth?: boolean } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.auth !== false && api.token) headers.set('authorization', `Bearer ${api.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const { json: _json, auth: _auth, ...rest } = init;
  try {
    return await fetch(`${api.url}${path}`, { ...rest, headers, body });
  } catch (err) {
    throw unreachable(api, err);
  }
}

export function unreachable(api: Api, err: unknown): CliError {
  if ((err as Error).name === 'AbortError') return new CliError('aborted');
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (err as Error).message;
  return new CliError(`cannot reach ${api.url} (${reason}). Is the platform running (npm start)? Set REEL_URL to its address.`);
}

/** A JSON response, or the API's error as a CliError. */
export async function getJson<T>(api: Api, path: string, init: Parameters<typeof call>[2] = {}, what?: string): Promise<T> {
  const res = await call(api, path, init);
  if (!res.ok) throw await apiError(res, what);
  return (await res.json()) as T;
}

/** A video as the API presents it (the fields the CLI uses). */
export interface Video {
  id: string;
  title: string;
  description?: string;
  visibility: Visibility;
  status: VideoStatus;
  progress?: { stage: string; percent: number };
  error?: { code: string; stage?: string; message: string };
  duration?: number;
  source?: { width: number; height: number; fps?: number; videoCodec?: string; hasAudio?: boolean };
  renditions?: { name: string; width: number; height: number; bandwidth: number; codecs: string }[];
  playback?: { hls: string; poster?: string; thumbnails?: string[]; storyboard?: string; expiresAt: string };
  createdAt: string;
  updatedAt: string;
}

export const getVideo = (api: Api, id: string) => getJson<Video>(api, `/v1/videos/${encodeURIComponent(id)}`, {}, `video ${id}`);
