import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { resolveFfmpeg } from '../src/binaries.ts';

/** A small real H.264 MP4 (320×240, 25 fps, `seconds` long) written as `dir/name`; returns its path. */
export function testClip(dir: string, seconds: number, name = 'source'): string {
  const file = join(dir, name);
  const args = ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', String(seconds)];
  execFileSync(resolveFfmpeg().ffmpeg, [...args, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-f', 'mp4', file]);
  return file;
}
