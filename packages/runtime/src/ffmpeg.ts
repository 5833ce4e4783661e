import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** ffmpeg-static's binary when its optional download succeeded. */
function staticBinary(pkg: string): string | undefined {
  try {
    const p = createRequire(import.meta.url)(pkg) as string | { path: string } | null;
    const file = typeof p === 'string' ? p : p?.path;
    return file && existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

/**
 * FFMPEG_PATH → ffmpeg-static's file if it exists → `ffmpeg` on PATH (same for ffprobe).
 * Everything else about ffmpeg is in @reel/media, which re-exports this; it stays here, beside
 * ffmpegSpec, because packages/stack looks the binaries up too and @reel/media depends on runtime.
 */
export function resolveFfmpeg(env: { readonly FFMPEG_PATH?: string | undefined; readonly FFPROBE_PATH?: string | undefined } = process.env): {
  ffmpeg: string;
  ffprobe: string;
} {
  return {
    ffmpeg: env.FFMPEG_PATH || staticBinary('ffmpeg-static') || 'ffmpeg',
    ffprobe: env.FFPROBE_PATH || staticBinary('ffprobe-static') || 'ffprobe',
  };
}
