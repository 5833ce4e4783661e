import { createRequire } from 'node:module';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type as T } from '@sinclair/typebox';

/** apps/gateway/public: the web page, plain HTML/CSS/ES modules served as they are (no build step). */
export const PUBLIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../public');
const require = createRequire(import.meta.url);

/** The browser builds of the two libraries the page uses, from node_modules: name → file. */
const VENDOR = new Map(
  [require.resolve('hls.js/dist/hls.min.js'), require.resolve('tus-js-client/dist/tus.min.js')].map((file) => [
    file.endsWith('hls.min.js') ? 'hls.min.js' : 'tus.min.js',
    file,
  ]),
);

/** Only plain names: every segment starts with a letter or digit, so no `..`, no dotfiles, no absolute path. */
const SAFE_PATH = /^[A-Za-z0-9][\w-]*(?:\.[\w-]+)*(?:\/[A-Za-z0-9][\w-]*(?:\.[\w-]+)*)*$/;

/**
 * The page: scripts only from this origin; media, images and playlists come from the storage
 * origin (presigned URLs), which is only known at run time, hence `*` there; hls.js runs its
 * transmuxer in a blob: worker. Only the embed page may be framed, by the sites it names.
 */
export const csp = (frameAncestors = "'none'") =>
  [
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
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
const CSP = csp();

/**
 * The web page: `/` is the single page (hash routes inside it), `/ui/*` its own files from
 * apps/gateway/public, `/ui/vendor/*` the browser builds of hls.js and tus-js-client.
 * Not part of the API: hidden from OpenAPI. @fastify/static does ETags, 304s, types and ranges.
 */
export const webRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/ui/',
    index: false,
    // the headers are ours (setHeaders); a 304 is cheap, so the app's files are always revalidated
    cacheControl: false,
    dotfiles: 'deny',
    allowedPath: (pathname) => SAFE_PATH.test(pathname.replace(/^\//, '')),
    setHeaders(res, file) {
      // the app's own files change with a deploy and have no hash in their name: always revalidate;
      // the libraries change only with a dependency upgrade
      res.setHeader('Cache-Control', file.startsWith(PUBLIC_DIR) ? 'no-cache' : 'public, max-age=86400');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      if (file.endsWith('.html')) {
        res.setHeader('Content-Security-Policy', CSP);
        res.setHeader('Referrer-Policy', 'same-origin');
      }
    },
  });
  // a request's `Cache-Control: no-cache` is for the caches on the way (RFC 9111 5.2.1.4): the origin
  // still answers a matching If-None-Match with 304. @fastify/send takes it as a forced reload, and
  // fetch() adds it to every request with a conditional header, so it is dropped here.
  app.addHook('onRequest', async (req) => {
    if (req.raw.headers['if-none-match']) delete req.raw.headers['cache-control'];
  });
  // the registered type of JavaScript (RFC 9239), which @fastify/send still names application/javascript
  app.addHook('onSend', async (_req, reply) => {
    if (String(reply.getHeader('content-type')).startsWith('application/javascript')) reply.header('content-type', 'text/javascript; charset=utf-8');
  });
  const schema = { hide: true };
  app.get('/', { schema }, (_req, reply) => reply.sendFile('index.html'));
  app.get('/favicon.ico', { schema }, (_req, reply) => reply.redirect('/ui/icon.svg', 301));
  app.get('/ui/vendor/:file', { schema: { ...schema, params: T.Object({ file: T.String() }) } }, (req, reply) => {
    const file = VENDOR.get(req.params.file);
    if (!file) return reply.callNotFound();
    return reply.sendFile(basename(file), dirname(file));
  });
};
