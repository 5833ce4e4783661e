import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** apps/gateway/public: the web page, plain HTML/CSS/ES modules served as they are (no build step). */
const PUBLIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../public');
const require = createRequire(import.meta.url);

/** The browser builds of the two libraries the page uses, from node_modules. */
const VENDOR: Record<string, () => string> = {
  'hls.min.js': () => require.resolve('hls.js/dist/hls.min.js'),
  'tus.min.js': () => require.resolve('tus-js-client/dist/tus.min.js'),
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Only plain names: every segment starts with a letter or digit, so no `..`, no dotfiles, no absolute path. */
const SAFE_PATH = /^[A-Za-z0-9][\w-]*(?:\.[\w-]+)*(?:\/[A-Za-z0-9][\w-]*(?:\.[\w-]+)*)*$/;

/**
 * The page: scripts only from this origin; media, images and playlists come from the storage
 * origin (presigned URLs), which is only known at run time, hence `*` there; hls.js runs its
 * transmuxer in a blob: worker.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  'img-src * data: blob:',
  'media-src * blob:',
  'connect-src *',
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

type CachePolicy = 'revalidate' | 'vendor';

async function sendFile(req: FastifyRequest, reply: FastifyReply, file: string, policy: CachePolicy) {
  const type = TYPES[extname(file).toLowerCase()];
  const info = await stat(file).catch(() => undefined);
  if (!type || !info?.isFile()) return notFound(req, reply);
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  reply
    .header('Content-Type', type)
    .header('ETag', etag)
    .header('Last-Modified', info.mtime.toUTCString())
    // the app's own files change with a deploy and have no hash in their name: always revalidate (a 304 is cheap);
    // the libraries change only with a dependency upgrade
    .header('Cache-Control', policy === 'vendor' ? 'public, max-age=86400' : 'no-cache')
    .header('X-Content-Type-Options', 'nosniff');
  if (type.startsWith('text/html')) reply.header('Content-Security-Policy', CSP).header('Referrer-Policy', 'same-origin');
  const inm = req.headers['if-none-match'];
  if (inm?.split(',').some((t) => t.trim() === etag)) return reply.code(304).send();
  reply.header('Content-Length', info.size);
  if (req.method === 'HEAD') return reply.send();
  return reply.send(createReadStream(file));
}

function notFound(req: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
}

/**
 * The web page: `/` is the single page (hash routes inside it), `/ui/*` its own files from
 * apps/gateway/public, `/ui/vendor/*` the browser builds of hls.js and tus-js-client.
 * Not part of the API: hidden from OpenAPI.
 */
export async function webRoutes(app: FastifyInstance): Promise<void> {
  const schema = { hide: true };
  app.get('/', { schema }, (req, reply) => sendFile(req, reply, join(PUBLIC_DIR, 'index.html'), 'revalidate'));
  app.get('/favicon.ico', { schema }, (_req, reply) => reply.redirect('/ui/icon.svg', 301));
  app.get('/ui/vendor/:file', { schema }, (req, reply) => {
    const resolveFile = VENDOR[(req.params as { file: string }).file];
    if (!resolveFile) return notFound(req, reply);
    return sendFile(req, reply, resolveFile(), 'vendor');
  });
  app.get('/ui/*', { schema }, (req, reply) => {
    const rel = (req.params as { '*': string })['*'];
    if (!SAFE_PATH.test(rel)) return notFound(req, reply);
    const file = resolve(PUBLIC_DIR, rel);
    // belt and braces: the resolved file must still be inside the public directory
    if (!file.startsWith(PUBLIC_DIR + sep)) return notFound(req, reply);
    return sendFile(req, reply, file, 'revalidate');
  });
}
