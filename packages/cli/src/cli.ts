// The reel commands. Talks only to the public HTTP API (REEL_URL, REEL_TOKEN).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { VideoStatus } from '@reel/vocabulary';
import { apiError, apiFromEnv, CliError, call, DEFAULT_URL, getJson, getVideo, requireToken, type Video } from './api.ts';
import { followVideo } from './follow.ts';
import { table, videoRow, videoText } from './format.ts';
import { Progress } from './progress.ts';
import { parseRate, uploadFile } from './upload.ts';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

const HELP: Record<string, string> = {
  main: `reel — the Reel video platform from the command line

Usage: reel <command> [options]

Commands:
  upload <file>   upload a video (resumable), wait until it is ready, print it
  ls              list your videos
  status <id>     show a video; --follow streams its progress until ready or failed
  rm <id>         delete a video
  retry <id>      process a failed video again from its stored upload
  token           mint a development token (HS256) from the platform's secret
  open <id>       print (and open) the video's web page
  webhooks        add, list and remove webhooks (add <url>, ls, rm <id>)

Environment:
  REEL_URL        the API (default ${DEFAULT_URL}, what npm start runs)
  REEL_TOKEN      a bearer token (npm start prints one; \`reel token\` mints one)
  REEL_STATE_DIR  where resumable uploads are remembered (default ~/.config/reel)

Run \`reel <command> --help\` for a command's options.
`,
  upload: `Usage: reel upload <file> [options]

Uploads a video with the tus resumable protocol (POST /v1/tus): interrupted (Ctrl-C, a lost
connection, a crash), the same command again resumes where the server left off. Progress goes to
stderr. Then follows the video until it is ready or failed and prints it; the exit code is
non-zero if it failed.

Options:
  --title <t>          title (default: the file name)
  --description <d>    description
  --public             anyone may watch it (default: private)
  --no-wait            print the id as soon as the bytes are uploaded
  --direct             use the direct flow instead of tus: a presigned PUT straight to storage
                       (POST /v1/uploads, then /complete); not resumable. Also used
                       automatically when the server has no tus endpoint.
  --chunk-size <MB>    size of each tus request, a resume point (default 8)
  --limit-rate <r>     send at most r bytes per second: 500K, 2M, …
  --json               print the video as JSON
`,
  ls: `Usage: reel ls [options]

Lists your videos, newest first (every page).

Options:
  --status <s>   only waiting_upload, processing, ready or failed
  --q <text>     only titles or descriptions containing the text
  --limit <n>    at most n videos
  --json         print the videos as a JSON array
`,
  status: `Usage: reel status <id> [options]

Prints a video. With --follow, shows its progress live until it is ready or failed (exit code
non-zero if it failed).

Options:
  -f, --follow   follow live progress (Server-Sent Events)
  --json         print the video as JSON
`,
  rm: `Usage: reel rm <id>...

Deletes videos: the catalog entry, the source and every rendition.
`,
  retry: `Usage: reel retry <id> [options]

Processes a failed video again from the file that was uploaded (POST /v1/videos/:id/retry; only
its owner may). Then follows it until it is ready or failed and prints it; the exit code is
non-zero if it failed again. A video that is not failed, or whose uploaded file is gone, is
refused with the reason (conflict or source_gone, HTTP 409).

Options:
  --no-wait      print the id as soon as the retry is accepted
  --json         print the video as JSON
`,
  token: `Usage: reel token [options]

Mints an HS256 development token and prints it on stdout, e.g.
  export REEL_TOKEN=$(npx reel token)
The secret is AUTH_JWT_SECRET if set, else the one \`npm start\` keeps in
\${REEL_DATA_DIR:-<repo>/.reel}/secrets.json.

Options:
  --sub <s>      the user (token subject; default "dev", as npm start)
  --ttl <t>      lifetime: 30d (default), 12h, 15m, 3600s or seconds
`,
  webhooks: `Usage: reel webhooks add <url> [--events e1,e2] [--json]
       reel webhooks ls [--json]
       reel webhooks rm <id>...

Webhooks POST your videos' events to a URL, signed (see the README for the verification recipe).
\`add\` prints the webhook's id and its secret: the secret is shown only this once.

Options:
  --events <list>   comma-separated, any of video.uploaded, video.playable, video.ready,
                    video.failed, video.updated, video.deleted (default: all)
  --json            print the API's JSON
`,
  open: `Usage: reel open <id>

Prints the video's web page ({REEL_URL}/#/watch/<id>) and opens it in a browser when one can be
started (xdg-open / open).

Options:
  --print        only print the URL
`,
};

const out = (s: string) => process.stdout.write(s);

function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(command: string, args: string[], options: T, positionals: [number, number]) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: T & { help: { type: 'boolean'; short: 'h' } }; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${HELP[command]}`, 2);
  }
  if ((parsed.values as { help?: boolean }).help) {
    out(HELP[command] ?? '');
    return undefined;
  }
  const [min, max] = positionals;
  if (parsed.positionals.length < min || parsed.positionals.length > max) throw new CliError(`wrong number of arguments\n\n${HELP[command]}`, 2);
  return parsed;
}

async function cmdUpload(args: string[]): Promise<number> {
  const p = parse(
    'upload',
    args,
    {
      title: { type: 'string' },
      description: { type: 'string' },
      public: { type: 'boolean' },
      'no-wait': { type: 'boolean' },
      direct: { type: 'boolean' },
      'chunk-size': { type: 'string' },
      'limit-rate': { type: 'string' },
      json: { type: 'boolean' },
    },
    [1, 1],
  );
  if (!p) return 0;
  const v = p.values;
  const file = p.positionals[0] as string;
  const chunkMb = Number(v['chunk-size'] ?? process.env.REEL_CHUNK_SIZE_MB ?? 8);
  if (!Number.isFinite(chunkMb) || chunkMb <= 0) throw new CliError('--chunk-size must be a positive number of megabytes', 2);
  const api = apiFromEnv();
  const token = requireToken(api);
  const progress = new Progress();
  const interrupted = (signal: NodeJS.Signals) => {
    progress.line(`\ninterrupted: run the same command again to resume the upload`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const uploaded = await uploadFile(
    api,
    token,
    file,
    {
      visibility: v.public ? 'public' : 'private',
      chunkSize: Math.round(chunkMb * 1024 * 1024),
      direct: Boolean(v.direct),
      ...(v['limit-rate'] !== undefined ? { limitRate: parseRate(v['limit-rate']) } : {}),
      ...(v.title !== undefined ? { title: v.title } : {}),
      ...(v.description !== undefined ? { description: v.description } : {}),
    },
    progress,
  );
  process.removeListener('SIGINT', interrupted);
  process.removeListener('SIGTERM', interrupted);
  progress.line(`uploaded (${uploaded.method}): ${uploaded.id}`);
  if (v['no-wait']) {
    out(v.json ? `${JSON.stringify({ id: uploaded.id, status: 'processing' })}\n` : `${uploaded.id}\n`);
    return 0;
  }
  const video = await followVideo(api, uploaded.id, progress, { appearWithinMs: 15_000 });
  return printFinal(video, Boolean(v.json));
}

function printFinal(video: Video, json: boolean): number {
  out(json ? `${JSON.stringify(video, null, 2)}\n` : videoText(video));
  if (video.status === 'failed') {
    const e = video.error;
    process.stderr.write(`reel: video ${video.id} failed${e ? `: ${e.code}: ${e.message}` : ''}\n`);
    return 1;
  }
  return 0;
}

async function cmdLs(args: string[]): Promise<number> {
  const p = parse('ls', args, { status: { type: 'string' }, q: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } }, [0, 0]);
  if (!p) return 0;
  const v = p.values;
  const statuses: string[] = VideoStatus.anyOf.map((s) => s.const);
  if (v.status !== undefined && !statuses.includes(v.status)) throw new CliError(`--status must be one of ${statuses.join(', ')}`, 2);
  const limit = v.limit === undefined ? Number.POSITIVE_INFINITY : Number(v.limit);
  if (!(limit > 0)) throw new CliError('--limit must be a positive number', 2);
  const api = apiFromEnv();
  requireToken(api);
  const items: Video[] = [];
  let cursor: string | null = null;
  do {
    const qs = new URLSearchParams({ limit: String(Math.min(100, limit - items.length)) });
    if (cursor) qs.set('cursor', cursor);
    if (v.status) qs.set('status', v.status);
    if (v.q) qs.set('q', v.q);
    const page: { items: Video[]; nextCursor: string | null } = await getJson(api, `/v1/videos?${qs}`, {}, 'list');
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < limit);
  if (v.json) out(`${JSON.stringify(items, null, 2)}\n`);
  else if (!items.length) process.stderr.write('no videos\n');
  else out(table(['ID', 'STATUS', 'TITLE', 'DURATION', 'CREATED'], items.map(videoRow)));
  return 0;
}

async function cmdStatus(args: string[]): Promise<number> {
  const p = parse('status', args, { follow: { type: 'boolean', short: 'f' }, json: { type: 'boolean' } }, [1, 1]);
  if (!p) return 0;
  const id = p.positionals[0] as string;
  const api = apiFromEnv();
  requireToken(api);
  if (!p.values.follow) {
    const video = await getVideo(api, id);
    out(p.values.json ? `${JSON.stringify(video, null, 2)}\n` : videoText(video));
    return video.status === 'failed' ? 1 : 0;
  }
  const video = await followVideo(api, id, new Progress());
  return printFinal(video, Boolean(p.values.json));
}

async function cmdRm(args: string[]): Promise<number> {
  const p = parse('rm', args, {}, [1, Number.POSITIVE_INFINITY]);
  if (!p) return 0;
  return deleteEach(p.positionals, 'video');
}

/** DELETE each `kind` by id, one line each; exit code 1 when any of them could not be deleted. */
async function deleteEach(ids: string[], kind: 'video' | 'webhook'): Promise<number> {
  const api = apiFromEnv();
  requireToken(api);
  let code = 0;
  for (const id of ids) {
    const res = await call(api, `/v1/${kind}s/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (res.ok) {
      await res.body?.cancel();
      out(`deleted ${kind === 'video' ? '' : `${kind} `}${id}\n`);
    } else {
      process.stderr.write(`reel: ${(await apiError(res, `${kind} ${id}`)).message}\n`);
      code = 1;
    }
  }
  return code;
}

async function cmdRetry(args: string[]): Promise<number> {
  const p = parse('retry', args, { 'no-wait': { type: 'boolean' }, json: { type: 'boolean' } }, [1, 1]);
  if (!p) return 0;
  const id = p.positionals[0] as string;
  const api = apiFromEnv();
  requireToken(api);
  const before = await getVideo(api, id);
  const res = await call(api, `/v1/videos/${encodeURIComponent(id)}/retry`, { method: 'POST' });
  if (!res.ok) throw await apiError(res, `video ${id}`);
  await res.body?.cancel();
  const progress = new Progress();
  progress.line(`retrying ${id}`);
  if (p.values['no-wait']) {
    out(p.values.json ? `${JSON.stringify({ id, status: 'processing' })}\n` : `${id}\n`);
    return 0;
  }
  // the catalog records the new attempt a moment later: until then the video still shows the old failure
  for (let i = 0; i < 60; i++) {
    const now = await getVideo(api, id);
    if (now.status !== 'failed' || now.updatedAt !== before.updatedAt) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const video = await followVideo(api, id, progress);
  return printFinal(video, Boolean(p.values.json));
}

export function parseTtl(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw]?)$/i.exec(s.trim());
  if (!m) throw new CliError(`--ttl must look like 30d, 12h, 15m, 3600s or 3600: ${s}`, 2);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[(m[2] ?? '').toLowerCase()] ?? 1;
  const sec = Math.round(Number(m[1]) * unit);
  if (sec <= 0) throw new CliError('--ttl must be more than 0', 2);
  return sec;
}

/** AUTH_JWT_SECRET, or the one `npm start` generated and keeps in its data directory. */
export function findSecret(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AUTH_JWT_SECRET) return env.AUTH_JWT_SECRET;
  const dataDir = resolve(env.REEL_DATA_DIR ?? join(ROOT, '.reel'));
  const file = join(dataDir, 'secrets.json');
  if (!existsSync(file))
    throw new CliError(`no secret to sign with: AUTH_JWT_SECRET is not set and ${file} does not exist (\`npm start\` creates it on its first run)`);
  try {
    const secret = (JSON.parse(readFileSync(file, 'utf8')) as { AUTH_JWT_SECRET?: unknown }).AUTH_JWT_SECRET;
    if (typeof secret === 'string' && secret) return secret;
  } catch {}
  throw new CliError(`${file} has no AUTH_JWT_SECRET`);
}

async function cmdToken(args: string[]): Promise<number> {
  const p = parse('token', args, { sub: { type: 'string' }, ttl: { type: 'string' } }, [0, 0]);
  if (!p) return 0;
  const sub = p.values.sub ?? 'dev';
  if (!sub.trim()) throw new CliError('--sub must not be empty', 2);
  const ttl = parseTtl(p.values.ttl ?? '30d');
  const secret = findSecret();
  const { mintToken } = await import('@reel/token');
  out(`${await mintToken(secret, sub, ttl)}\n`);
  return 0;
}

async function cmdOpen(args: string[]): Promise<number> {
  const p = parse('open', args, { print: { type: 'boolean' } }, [1, 1]);
  if (!p) return 0;
  const api = apiFromEnv();
  const url = `${api.url}/#/watch/${encodeURIComponent(p.positionals[0] as string)}`;
  out(`${url}\n`);
  if (p.values.print) return 0;
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? undefined : 'xdg-open';
  const graphical = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  if (opener && graphical) {
    await new Promise<void>((done) => {
      const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
      child.on('error', () => done()); // no opener: the printed URL is enough
      child.on('spawn', () => {
        child.unref();
        done();
      });
    });
  }
  return 0;
}

interface Webhook {
  id: string;
  url: string;
  events: string[];
  active: boolean;
  createdAt: string;
}

async function cmdWebhooks(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h') {
    out(HELP.webhooks ?? '');
    return sub ? 0 : 2;
  }
  if (sub === 'add') {
    const p = parse('webhooks', rest, { events: { type: 'string' }, json: { type: 'boolean' } }, [1, 1]);
    if (!p) return 0;
    const api = apiFromEnv();
    requireToken(api);
    const events = p.values.events
      ?.split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    const body = { url: p.positionals[0], ...(events?.length ? { events } : {}) };
    const hook: Webhook & { secret: string } = await getJson(api, '/v1/webhooks', { method: 'POST', json: body }, 'webhook');
    if (p.values.json) out(`${JSON.stringify(hook, null, 2)}\n`);
    else out(`id:      ${hook.id}\nurl:     ${hook.url}\nevents:  ${hook.events.join(', ')}\nsecret:  ${hook.secret}\n`);
    process.stderr.write('keep the secret: it is not shown again\n');
    return 0;
  }
  if (sub === 'ls' || sub === 'list') {
    const p = parse('webhooks', rest, { json: { type: 'boolean' } }, [0, 0]);
    if (!p) return 0;
    const api = apiFromEnv();
    requireToken(api);
    const { items }: { items: Webhook[] } = await getJson(api, '/v1/webhooks', {}, 'webhooks');
    if (p.values.json) out(`${JSON.stringify(items, null, 2)}\n`);
    else if (!items.length) process.stderr.write('no webhooks\n');
    else
      out(
        table(
          ['ID', 'URL', 'EVENTS', 'ACTIVE', 'CREATED'],
          items.map((h) => [h.id, h.url, h.events.length === 6 ? 'all' : h.events.join(','), h.active ? 'yes' : 'no (410 Gone)', h.createdAt]),
        ),
      );
    return 0;
  }
  if (sub === 'rm' || sub === 'delete') {
    const p = parse('webhooks', rest, {}, [1, Number.POSITIVE_INFINITY]);
    return p ? deleteEach(p.positionals, 'webhook') : 0;
  }
  throw new CliError(`unknown webhooks command "${sub}"\n\n${HELP.webhooks}`, 2);
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  upload: cmdUpload,
  ls: cmdLs,
  list: cmdLs,
  status: cmdStatus,
  rm: cmdRm,
  delete: cmdRm,
  retry: cmdRetry,
  token: cmdToken,
  open: cmdOpen,
  webhooks: cmdWebhooks,
};

/** Runs one command line; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(HELP.main ?? '');
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    out(`${pkg.version}\n`);
    return 0;
  }
  const fn = COMMANDS[command];
  if (!fn) throw new CliError(`unknown command "${command}"\n\n${HELP.main}`, 2);
  return fn(args);
}
