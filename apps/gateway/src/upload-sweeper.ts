import type { Logger } from '@reel/events';
import type { Storage } from '@reel/storage';

/** A resumable (tus) upload legitimately stays open for a day (tus.ts): its parts are kept longer. */
const RESUMABLE = /\/tus$/;
const DEFAULT_RESUMABLE_OLDER_THAN_MS = 25 * 3600 * 1000;

/**
 * Aborts, every `intervalMs`, the multipart uploads of the source bucket that a writer left open:
 * a gateway killed mid-upload cannot abort its own. A streamed upload (POST /v1/videos) older than
 * `olderThanMs` is certainly dead; a resumable one only after `resumableOlderThanMs`.
 */
export function startUploadSweeper(opts: { storage: Storage; log: Logger; intervalMs: number; olderThanMs: number; resumableOlderThanMs?: number }): {
  stop(): void;
} {
  const { storage, log } = opts;
  const bucket = storage.sourceBucket;
  let running: Promise<void> | undefined;
  const sweep = async () => {
    const streamed = await storage.abortStaleUploads(bucket, opts.olderThanMs, (key) => !RESUMABLE.test(key));
    const resumable = await storage.abortStaleUploads(bucket, opts.resumableOlderThanMs ?? DEFAULT_RESUMABLE_OLDER_THAN_MS, (key) => RESUMABLE.test(key));
    if (streamed + resumable > 0) log.info({ bucket, streamed, resumable }, 'aborted stale multipart uploads');
  };
  const tick = () => {
    // one sweep at a time, however slow storage is
    running ??= sweep()
      .catch((err) => log.warn({ err, bucket }, 'stale upload sweep failed; trying again later'))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, opts.intervalMs);
  timer.unref();
  tick();
  return {
    /** No further sweeps; resolves once the one running (if any) has ended. */
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
