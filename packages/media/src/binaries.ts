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
 * Node built-ins only, so the launcher and the test clients look the binaries up through
 * `@reel/media/binaries` without loading the rest of the package.
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
