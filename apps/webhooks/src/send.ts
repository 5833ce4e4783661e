import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Target } from './outbound.ts';

/** What one attempt came to: the receiver's status, or why there is none. */
export type AttemptResult = { status: number } | { error: string };

/**
 * POSTs `body` to the checked target: the connection goes to the address that was checked (the
 * hostname is still sent as Host and TLS server name), a redirect is an answer like any other (not
 * followed), and the whole attempt is cut at `timeoutMs`. The response body is read and dropped.
 */
export function postOnce(target: Target, body: string, headers: Record<string, string>, timeoutMs: number): Promise<AttemptResult> {
  const pinned: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all)
      (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
    else cb(null, target.address, target.family);
  };
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = client.request(
      target.url,
      {
        method: 'POST',
        lookup: pinned,
        signal: AbortSignal.timeout(timeoutMs),
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Reel-Webhooks/1', ...headers },
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', (err) => resolve({ error: err.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : err.message }));
    req.end(body);
  });
}
