// What a chaos scenario leaves behind, looked up for real: objects in both buckets (S3 API),
// incomplete multipart uploads (ListMultipartUploads), ffmpeg processes of this run (/proc),
// files in the apps' temp directory (JetStream's side: @reel/testing's jetstream.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'minio';

export interface S3Env {
  S3_ENDPOINT: string;
  S3_REGION?: string;
  S3_ACCESS_KEY: string;
  S3_SECRET_KEY: string;
  S3_SOURCE_BUCKET?: string;
  S3_MEDIA_BUCKET?: string;
}

export interface Buckets {
  source: string;
  media: string;
  /** Object keys under `prefix` (listed with ListObjectsV2); a missing bucket has none. */
  list(bucket: string, prefix: string): Promise<string[]>;
  /** Incomplete multipart uploads (ListMultipartUploads) in `bucket`, as `key (started …)`. */
  incompleteUploads(bucket: string): Promise<string[]>;
}

export function openBuckets(env: S3Env): Buckets {
  const u = new URL(env.S3_ENDPOINT);
  const client = new Client({
    endPoint: u.hostname,
    port: Number(u.port) || (u.protocol === 'https:' ? 443 : 80),
    useSSL: u.protocol === 'https:',
    region: env.S3_REGION ?? 'us-east-1',
    accessKey: env.S3_ACCESS_KEY,
    secretKey: env.S3_SECRET_KEY,
  });
  return {
    source: env.S3_SOURCE_BUCKET ?? 'reel-sources',
    media: env.S3_MEDIA_BUCKET ?? 'reel-media',
    async list(bucket, prefix) {
      if (!(await client.bucketExists(bucket))) return [];
      const keys: string[] = [];
      for await (const o of client.listObjectsV2(bucket, prefix, true)) if (o.name) keys.push(o.name);
      return keys;
    },
    async incompleteUploads(bucket) {
      if (!(await client.bucketExists(bucket))) return [];
      // minio's listIncompleteUploads sends an empty `delimiter=`, which Swift's s3api rejects
      // (STACK.md): the request is made by hand
      const res = await client.makeRequestAsync({ method: 'GET', bucketName: bucket, query: 'uploads&max-uploads=1000' }, '', [200]);
      let xml = '';
      for await (const chunk of res) xml += chunk;
      return [...xml.matchAll(/<Upload>([\s\S]*?)<\/Upload>/g)].map((m) => {
        const body = m[1] ?? '';
        const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1] ?? '?';
        return `${tag('Key')} (started ${tag('Initiated')})`;
      });
    },
  };
}

/** Every object a video may have: its source and work files, and what was published for it. */
export async function objectsOf(buckets: Buckets, videoId: string): Promise<string[]> {
  const lists = await Promise.all([
    buckets.list(buckets.source, `sources/${videoId}/`),
    buckets.list(buckets.source, `work/${videoId}/`),
    buckets.list(buckets.media, `videos/${videoId}/`),
  ]);
  return lists.flat();
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  cmdline: string;
}

/** ffmpeg/ffprobe processes started by this run: their environment carries the run's marker. */
export function ffmpegOfRun(marker: string): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm !== 'ffmpeg' && comm !== 'ffprobe') continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (!environ.split('\0').includes(marker)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(entry), ppid, cmdline });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Bytes and file count under `dir` (the apps' TMPDIR), with the first few paths. */
export function diskUsage(dir: string): { files: number; bytes: number; some: string[] } {
  let files = 0;
  let bytes = 0;
  const some: string[] = [];
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      const p = join(d, name);
      try {
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else {
          files++;
          bytes += st.size;
          if (some.length < 3) some.push(p.slice(dir.length + 1));
        }
      } catch {
        // removed meanwhile
      }
    }
  };
  walk(dir);
  return { files, bytes, some };
}

/** RSS of a process in MiB (0 when it is gone). */
export function rssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** A ladder encode (one chunk, every rung), not the audio rendition or an image. */
export const isLadderEncode = (p: ProcInfo): boolean => p.cmdline.includes('-var_stream_map');
/** The audio rendition of a video cut into chunks. */
export const isAudioEncode = (p: ProcInfo): boolean => !isLadderEncode(p) && p.cmdline.includes('index.m3u8');

/** Where the chunk a ladder encode reads starts (its `-ss`, in seconds); 0 for a video of one piece. */
export function chunkStartOf(p: ProcInfo): number {
  const m = / -ss (\S+) /.exec(` ${p.cmdline} `);
  return m ? Number(m[1]) : 0;
}
