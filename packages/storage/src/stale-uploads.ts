import type { Client } from 'minio';
import { type RetryPolicy, retrying } from './retry.ts';

interface PendingUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

const unescapeXml = (s: string) => s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e] ?? '');
const tag = (xml: string, name: string) => {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? unescapeXml(m[1] ?? '') : undefined;
};

/**
 * Every multipart upload in progress in `bucket`. Asked with a request of our own, because
 * minio-js always sends `delimiter=` and Swift's s3api (2.30) answers that with a broken listing.
 */
async function listUploads(client: Client, bucket: string, retry: RetryPolicy): Promise<PendingUpload[]> {
  const uploads: PendingUpload[] = [];
  let keyMarker = '';
  let uploadIdMarker = '';
  for (let page = 0; page < 1000; page++) {
    const query = ['uploads', 'max-uploads=1000'];
    if (keyMarker) query.push(`key-marker=${encodeURIComponent(keyMarker)}`);
    if (uploadIdMarker) query.push(`upload-id-marker=${encodeURIComponent(uploadIdMarker)}`);
    const xml = await retrying('ListMultipartUploads', retry, async () => {
      const res = await client.makeRequestAsync({ method: 'GET', bucketName: bucket, query: query.join('&') });
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    });
    for (const m of xml.matchAll(/<Upload>([\s\S]*?)<\/Upload>/g)) {
      const body = m[1] ?? '';
      const key = tag(body, 'Key');
      const uploadId = tag(body, 'UploadId');
      const initiated = new Date(tag(body, 'Initiated') ?? '');
      if (key && uploadId && !Number.isNaN(initiated.getTime())) uploads.push({ key, uploadId, initiated });
    }
    if (tag(xml, 'IsTruncated') !== 'true') break;
    keyMarker = tag(xml, 'NextKeyMarker') ?? '';
    uploadIdMarker = tag(xml, 'NextUploadIdMarker') ?? '';
    if (!keyMarker) break;
  }
  return uploads;
}

/**
 * Aborts the multipart uploads of `bucket` (those whose key `select` accepts, when given) started
 * more than `olderThanMs` ago; returns how many.
 */
export async function abortStaleUploads(
  client: Client,
  bucket: string,
  olderThanMs: number,
  retry: RetryPolicy,
  select: (key: string) => boolean = () => true,
): Promise<number> {
  const cutoff = Date.now() - olderThanMs;
  let aborted = 0;
  for (const u of await listUploads(client, bucket, retry)) {
    if (!select(u.key)) continue;
    // Swift reports the start rounded up to the next second
    if (u.initiated.getTime() - 1000 > cutoff) continue;
    try {
      await retrying('AbortMultipartUpload', retry, () => client.abortMultipartUpload(bucket, u.key, u.uploadId));
      aborted++;
    } catch (err) {
      // finished or aborted meanwhile by its writer
      const code = (err as { code?: string }).code;
      if (code !== 'NoSuchUpload' && code !== 'NotFound') throw err;
    }
  }
  return aborted;
}
