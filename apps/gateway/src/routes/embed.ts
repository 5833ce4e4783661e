import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isQueryError, isVideoId, VIDEO_ID_PATTERN, type VideoRecord } from '@reel/events';
import { Type as T } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { publicBaseUrl } from '../config.ts';
import { HttpError } from '../errors.ts';
import { present } from './videos/present.ts';
import { csp, PUBLIC_DIR } from './web.ts';

/**
 * The embed page, built once from the web page itself (its head, player template and styles), so
 * the player another site frames is the one of the watch page, without the rest of it.
 */
export function embedPage(indexHtml: string): string {
  const template = /<template id="tpl-watch">[\s\S]*?<\/template>/.exec(indexHtml)?.[0];
  const head = /<head>[\s\S]*?<\/head>/.exec(indexHtml)?.[0];
  if (!template || !head?.includes('src="/ui/js/main.js"')) throw new Error('index.html has no <head> with main.js or no <template id="tpl-watch">');
  const embedHead = head
    .replace('src="/ui/js/main.js"', 'src="/ui/js/embed.js"')
    .replace(/\n\s*<link rel="modulepreload" href="\/ui\/js\/(?:library|upload)\.js">/g, '')
    .replace(/\n\s*<meta name="description"[^>]*>/, '\n  <meta name="robots" content="noindex">');
  return `<!doctype html>
<html lang="en">
${embedHead}
<body class="embed">
  <main id="embed"></main>
  <div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
  ${template}
</body>
</html>
`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const notAvailable = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Video not available · Reel</title><link rel="stylesheet" href="/ui/app.css"></head>
<body class="embed"><main class="embed-message"><p>This video is private or does not exist.</p></main></body></html>
`;

/** An embed's size: `width` wide at the video's aspect ratio (16:9 before it is known), within the consumer's limits. */
export function embedSize(v: Pick<VideoRecord, 'source'>, max: { maxwidth?: number | undefined; maxheight?: number | undefined }) {
  const aspect = v.source ? v.source.displayWidth / v.source.displayHeight : 16 / 9;
  let width = Math.min(640, max.maxwidth ?? 640);
  let height = Math.round(width / aspect);
  if (max.maxheight !== undefined && height > max.maxheight) {
    height = max.maxheight;
    width = Math.round(height * aspect);
  }
  return { width, height };
}

const OEmbedQuery = T.Object({
  url: T.String({ minLength: 1, maxLength: 2048 }),
  format: T.Optional(T.String({ maxLength: 10 })),
  maxwidth: T.Optional(T.Integer({ minimum: 1, maximum: 10_000 })),
  maxheight: T.Optional(T.Integer({ minimum: 1, maximum: 10_000 })),
});
const OEmbed = T.Object({
  version: T.Literal('1.0'),
  type: T.Literal('video'),
  provider_name: T.String(),
  provider_url: T.String(),
  title: T.String(),
  html: T.String(),
  width: T.Integer(),
  height: T.Integer(),
  cache_age: T.Optional(T.Integer()),
  thumbnail_url: T.Optional(T.String()),
  thumbnail_width: T.Optional(T.Integer()),
  thumbnail_height: T.Optional(T.Integer()),
});

/**
 * GET /embed/:id: the player alone, for an iframe on another site (CSP `frame-ancestors` from
 * EMBED_FRAME_ANCESTORS); only a video anyone may watch (public or unlisted): never with the
 * viewer's token, so a private video is refused even to its owner's browser.
 * GET /oembed?url=…: oEmbed 1.0 (`type: video`, an iframe of the embed) for public and unlisted
 * videos' links; 404 for anything else, 501 for a format other than json.
 */
export const embedRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { catalog, config, playback, storage } = app;
  const baseUrl = publicBaseUrl(config);
  const page = embedPage(readFileSync(join(PUBLIC_DIR, 'index.html'), 'utf8'));
  const framed = csp(config.EMBED_FRAME_ANCESTORS);
  /** The video as a visitor sees it (no token), or undefined when a visitor may not see it. */
  const visible = async (id: string) => {
    try {
      const v = await catalog.get(id);
      return v.visibility === 'private' ? undefined : v;
    } catch (err) {
      if (isQueryError(err) && err.code === 'not_found') return undefined;
      throw err;
    }
  };
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .header('Content-Security-Policy', framed)
      .header('X-Content-Type-Options', 'nosniff')
      .header('Referrer-Policy', 'strict-origin-when-cross-origin')
      .header('Cache-Control', 'no-cache')
      .send(body);

  app.get('/embed/:id', { onRequest: app.limits.read, schema: { hide: true, params: T.Object({ id: T.String({ maxLength: 64 }) }) } }, async (req, reply) => {
    const v = isVideoId(req.params.id) ? await visible(req.params.id) : undefined;
    return v ? html(reply, 200, page) : html(reply, 404, notAvailable);
  });

  const idIn = new RegExp(`^(?:/embed/|/watch/|/#/watch/)(${VIDEO_ID_PATTERN.slice(1, -1)})$`);
  app.get(
    '/oembed',
    {
      onRequest: app.limits.read,
      schema: { tags: ['embeds'], security: [], querystring: OEmbedQuery, response: { 200: OEmbed, 404: { $ref: 'Error#' }, 501: { $ref: 'Error#' } } },
    },
    async (req) => {
      const { url, format = 'json', maxwidth, maxheight } = req.query;
      if (format !== 'json') throw new HttpError(501, 'not_implemented', 'only format=json is served');
      let link: URL;
      try {
        link = new URL(url);
      } catch {
        throw new HttpError(404, 'not_found', 'not a link to a video of this site');
      }
      const id = link.origin === new URL(baseUrl).origin ? idIn.exec(`${link.pathname}${link.hash}`)?.[1] : undefined;
      const v = id ? await visible(id) : undefined;
      if (!v) throw new HttpError(404, 'not_found', 'no public or unlisted video at this link');
      const { width, height } = embedSize(v, { maxwidth, maxheight });
      const title = escapeHtml(v.title);
      const links = (await present(v, { playback, storage, baseUrl, mediaPublicUrl: config.MEDIA_PUBLIC_URL })).playback;
      const thumb =
        links?.poster && v.source
          ? {
              thumbnail_url: links.poster,
              thumbnail_width: Math.min(1280, v.source.displayWidth),
              thumbnail_height: Math.round((Math.min(1280, v.source.displayWidth) * v.source.displayHeight) / v.source.displayWidth),
            }
          : {};
      return {
        version: '1.0' as const,
        type: 'video' as const,
        provider_name: 'Reel',
        provider_url: `${baseUrl}/`,
        title: v.title,
        html: `<iframe src="${baseUrl}/embed/${v.id}" width="${width}" height="${height}" title="${title}" frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>`,
        width,
        height,
        // a signed poster expires: consumers ask again before it does
        ...(links?.expiresAt ? { cache_age: Math.max(60, Math.floor((Date.parse(links.expiresAt) - Date.now()) / 2000)) } : {}),
        ...thumb,
      };
    },
  );
};
