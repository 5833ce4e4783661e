import { env } from '@reel/runtime';

/** Apps that run ffmpeg/ffprobe; unset means FFMPEG_PATH → ffmpeg-static → PATH (see resolveFfmpeg). */
export const ffmpegSpec = {
  FFMPEG_PATH: env.string({ optional: true, doc: 'ffmpeg binary (default: ffmpeg-static if installed, else ffmpeg on PATH)' }),
  FFPROBE_PATH: env.string({ optional: true, doc: 'ffprobe binary (default: ffprobe on PATH)' }),
} as const;
