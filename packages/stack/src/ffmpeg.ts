import { resolveFfmpeg } from '@reel/media/binaries';
import { aptInstall, hasCommand } from './apt.ts';

export function ensureFfmpegInstalled(log?: (line: string) => void): void {
  const { ffmpeg, ffprobe } = resolveFfmpeg();
  if (!hasCommand(ffmpeg) || !hasCommand(ffprobe)) aptInstall(['ffmpeg'], log);
}

export { resolveFfmpeg };
