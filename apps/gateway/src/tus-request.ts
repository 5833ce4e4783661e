import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from '@tus/server';
import { NodeRequest, sendNodeResponse } from 'srvx/node';

/**
 * The request body as a web stream, chunk for chunk, pulled one at a time (backpressure reaches
 * the socket). srvx's own (Readable.toWeb) copies every chunk "to detach it from the pool":
 * a second copy of the whole upload, and the garbage behind most of tus' CPU time in a profile.
 */
function bodyOf(raw: IncomingMessage): ReadableStream<Uint8Array> {
  // made on the first read: a request whose body tus never reads is left alone
  let chunks: AsyncIterator<Buffer> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        chunks ??= raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        const { value, done } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel() {
        await chunks?.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

const bodyLength = new AsyncLocalStorage<number>();

/**
 * The Content-Length of the request tus is handling, if it has one: tus hands its DataStore the
 * body alone, and a store that knows how much is coming sends its parts as the bytes arrive.
 */
export const announcedLength = (): number | undefined => bodyLength.getStore();

/** Runs `fn` (a tus request's handling) with `length` as its announcedLength. */
export const withAnnouncedLength = <T>(length: number, fn: () => T): T => bodyLength.run(length, fn);

/**
 * `tus.handle(req, res)`, with the body handed to tus without a copy. Everything else is srvx's
 * NodeRequest as tus builds it itself (the abort signal, `runtime.node` for disconnects).
 */
export async function handleTus(tus: Server, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const request = new NodeRequest({ req, res });
  if (req.method !== 'GET' && req.method !== 'HEAD') Object.defineProperty(request, 'body', { value: bodyOf(req) });
  const length = /^\d{1,15}$/.test(req.headers['content-length'] ?? '') ? Number(req.headers['content-length']) : undefined;
  const response = length === undefined ? await tus.handleWeb(request) : await withAnnouncedLength(length, () => tus.handleWeb(request));
  await sendNodeResponse(res, response);
}
