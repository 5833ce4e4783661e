import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type EventData, type HandlerContext, PermanentError, type Publisher, Subjects } from '@reel/events';
import { isFfmpegError, type Media } from '@reel/media';
import { keys, type Storage } from '@reel/storage';
import { planStoryboard, storyboardVtt, thumbnailTimes } from '../thumbnails.ts';
import { makeWorkDir } from '../work-dir.ts';

export interface ThumbnailDeps {
  storage: Storage;
  publisher: Publisher;
  media: Media;
  workDir?: string;
}

/**
 * video.ingested → a poster, five thumbnails and a storyboard sprite with its WebVTT, read
 * straight from the source through a presigned URL (seeking, not downloading the whole file;
 * ffmpeg may open that URL and nothing else). A source that cannot be reached is retried; only
 * a frame ffmpeg cannot decode fails the step.
 */
export function createThumbnailsHandler(deps: ThumbnailDeps) {
  return async (d: EventData<'video.ingested'>, ctx: HandlerContext): Promise<void> => {
    const { storage } = deps;
    const dir = await makeWorkDir(deps.workDir, 'thumbs');
    try {
      const url = await storage.presignGet(d.source.bucket, d.source.key, 3600);
      const { durationSec, displayWidth: w, displayHeight: h } = d.probe;
      const frame = async (atSec: number, width: number, file: string) => {
        await deps.media.extractFrame({
          input: url,
          atSec,
          width,
          display: { width: w, height: h },
          output: join(dir, file),
          signal: ctx.signal,
          attributes: { 'reel.video.id': d.videoId, 'reel.frame.at_sec': atSec },
        });
        return join(dir, file);
      };
      const posterAt = Math.min(durationSec / 3, 5);
      const poster = await frame(posterAt, Math.min(1280, w), 'poster.jpg');
      await storage.putFile(storage.mediaBucket, keys.poster(d.videoId), poster, 'image/jpeg');
      const thumbnails: string[] = [];
      for (const [i, t] of thumbnailTimes(durationSec).entries()) {
        const file = await frame(t, Math.min(320, w), `thumb-${i}.jpg`);
        const key = keys.thumbnail(d.videoId, i);
        await storage.putFile(storage.mediaBucket, key, file, 'image/jpeg');
        thumbnails.push(key);
      }
      const plan = planStoryboard(durationSec, w, h);
      await deps.media.extractStoryboard({
        input: url,
        plan,
        output: join(dir, 'storyboard.jpg'),
        signal: ctx.signal,
        attributes: { 'reel.video.id': d.videoId, 'reel.media.duration_sec': durationSec, 'reel.storyboard.tiles': plan.count },
      });
      const image = keys.storyboard(d.videoId);
      const vtt = keys.storyboardVtt(d.videoId);
      await storage.putFile(storage.mediaBucket, image, join(dir, 'storyboard.jpg'), 'image/jpeg');
      await storage.putText(storage.mediaBucket, vtt, storyboardVtt(plan, durationSec, 'storyboard.jpg'), 'text/vtt');
      await deps.publisher.publish(
        Subjects.thumbnailsCreated,
        {
          videoId: d.videoId,
          bucket: storage.mediaBucket,
          poster: keys.poster(d.videoId),
          thumbnails,
          storyboard: { image, vtt, columns: plan.columns, rows: plan.rows, intervalSec: plan.intervalSec },
        },
        { id: `${ctx.envelope.id}.thumbnails` },
      );
    } catch (err) {
      if (isFfmpegError(err)) throw new PermanentError('thumbnails_failed', err.message, { cause: err });
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
