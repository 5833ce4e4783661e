import { writeFileSync } from 'node:fs';
import type { HandlerContext, Publisher } from '@reel/events';
import { imageBranches, type Media } from '@reel/media';
import type { Storage } from '@reel/storage';
import { rungOf } from '@reel/testing';

export const VIDEO = '6f1c2d3e-4a5b-4c7d-8e9f-0a1b2c3d4e5f';
export const source = { bucket: 'reel-sources', key: `sources/${VIDEO}/original` };
export const rung = (name: string, width: number, height: number) => rungOf(name, width, height);

const log = { info() {}, warn() {}, error() {}, debug() {}, child: () => log } as never;

/** A handler's context for event `id`, with its own abort controller. */
export function context(id = 'evt-1'): HandlerContext & { ctl: AbortController } {
  const ctl = new AbortController();
  return {
    ctl,
    envelope: { id, type: 'test', version: 1, occurredAt: new Date(0).toISOString(), data: {} },
    log,
    signal: ctl.signal,
    working() {},
    deliveryCount: 1,
    isLastAttempt: false,
  };
}

/** Storage in memory: what was downloaded, stored (key → content type) and written as text. */
export function fakeStorage() {
  const stored = new Map<string, string>();
  const texts = new Map<string, string>();
  const downloads: string[] = [];
  const storage = {
    sourceBucket: 'reel-sources',
    mediaBucket: 'reel-media',
    async download(_bucket: string, key: string, file: string) {
      downloads.push(key);
      writeFileSync(file, 'source bytes');
    },
    async putFile(bucket: string, key: string, _file: string, contentType?: string) {
      stored.set(`${bucket}/${key}`, contentType ?? '');
      return 1;
    },
    async putText(bucket: string, key: string, text: string) {
      texts.set(`${bucket}/${key}`, text);
    },
    async presignGet(bucket: string, key: string) {
      return `https://s3.test/${bucket}/${key}?X-Amz-Signature=sig`;
    },
  } as Partial<Storage> as Storage;
  return { storage, stored, texts, downloads };
}

/** A publisher that records what it was asked to publish. */
export function fakePublisher() {
  const published: { subject: string; data: unknown; id?: string | undefined }[] = [];
  const publisher: Publisher = {
    async publish(subject, data, opts) {
      published.push({ subject, data, id: opts?.id });
      return { seq: published.length, duplicate: false } as never;
    },
  };
  return { publisher, published };
}

/**
 * Media without ffmpeg: every call is recorded; encodeLadder writes two 4 s segments per rung and
 * a small file per planned image (or runs `fail`).
 */
export function fakeMedia(opts: { fail?: Error; level?: number; noFrameFor?: string[] } = {}) {
  const calls: { method: keyof Media; job: unknown }[] = [];
  const media: Media = {
    async probe() {
      throw new Error('not used');
    },
    async encodeLadder(job) {
      calls.push({ method: 'encodeLadder', job });
      if (opts.fail) throw opts.fail;
      job.onProgress?.(job.chunk.durationSec / 2);
      job.ladder.forEach((_, i) => {
        writeFileSync(`${job.outDir}/${i}/index.m3u8`, '#EXTM3U\n#EXTINF:4.000,\nseg-00000.ts\n#EXTINF:2.000,\nseg-00001.ts\n#EXT-X-ENDLIST\n');
        for (const f of ['seg-00000.ts', 'seg-00001.ts']) writeFileSync(`${job.outDir}/${i}/${f}`, 'x'.repeat(188));
      });
      // every planned image but those `opts.noFrameFor` names (a time past the chunk's last frame)
      if (job.images)
        for (const b of imageBranches(job.images, job.chunk, `${job.outDir}/images`)) if (!opts.noFrameFor?.includes(b.name)) writeFileSync(b.file, 'jpeg');
    },
    async encodeAudio(job) {
      calls.push({ method: 'encodeAudio', job });
      if (opts.fail) throw opts.fail;
      // as ffmpeg does with an EVENT playlist: the first segment listed while the rest is encoded
      writeFileSync(`${job.outDir}/seg-00000.ts`, 'x'.repeat(188));
      writeFileSync(`${job.outDir}/index.m3u8`, '#EXTM3U\n#EXTINF:4.000,\nseg-00000.ts\n');
      job.onProgress?.(4);
      await new Promise((r) => setTimeout(r, 20));
      writeFileSync(`${job.outDir}/seg-00001.ts`, 'x'.repeat(188));
      writeFileSync(`${job.outDir}/index.m3u8`, '#EXTM3U\n#EXTINF:4.000,\nseg-00000.ts\n#EXTINF:2.000,\nseg-00001.ts\n#EXT-X-ENDLIST\n');
    },
    async h264Level(file) {
      calls.push({ method: 'h264Level', job: file });
      return opts.level ?? 31;
    },
  };
  return { media, calls };
}
