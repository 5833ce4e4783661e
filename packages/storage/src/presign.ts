import { createHash, createHmac } from 'node:crypto';

export interface SigningCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly sessionToken?: string | undefined;
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * A SigV4 presigned PUT (path style) whose signature covers `Content-Length`: the store refuses
 * any other length, so the client can send exactly the size it declared and nothing else.
 * (minio-js leaves content-length out of what it signs, hence this one function.)
 */
export function presignPutWithLength(opts: {
  endpoint: string;
  region: string;
  bucket: string;
  key: string;
  contentLength: number;
  expirySec: number;
  credentials: SigningCredentials;
  now?: Date;
}): string {
  const url = new URL(opts.endpoint);
  const amzDate = (opts.now ?? new Date())
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${opts.region}/s3/aws4_request`;
  const path = `/${enc(opts.bucket)}/${opts.key.split('/').map(enc).join('/')}`;
  const query: [string, string][] = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${opts.credentials.accessKey}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(opts.expirySec)],
    ['X-Amz-SignedHeaders', 'content-length;host'],
  ];
  if (opts.credentials.sessionToken) query.push(['X-Amz-Security-Token', opts.credentials.sessionToken]);
  const canonicalQuery = query
    .map(([k, v]) => `${enc(k)}=${enc(v)}`)
    .sort()
    .join('&');
  const canonicalRequest = [
    'PUT',
    path,
    canonicalQuery,
    `content-length:${opts.contentLength}`,
    `host:${url.host}`,
    '',
    'content-length;host',
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${opts.credentials.secretKey}`, day), opts.region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return `${url.protocol}//${url.host}${path}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}
