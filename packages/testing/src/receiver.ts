import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

export interface ReceivedRequest {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * An HTTP endpoint on loopback standing in for a webhook receiver: keeps every request with its
 * body and answers each through `respond` (200 by default; one that never ends the response is a
 * receiver that does not answer). Its connections are cut and it is closed by `teardown`.
 */
export async function startReceiver(
  teardown: (fn: () => Promise<void>) => void,
  respond: (res: ServerResponse, n: number, req: ReceivedRequest) => void = (res) => res.end(),
): Promise<{ url: string; got: ReceivedRequest[] }> {
  const got: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      got.push(received);
      respond(res, got.length, received);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, got };
}
