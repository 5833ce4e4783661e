import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveFfmpeg } from '@reel/media/binaries';

/** Test and benchmark inputs, generated with ffmpeg's own sources: nothing binary is committed. */
export const CLIPS = {
  landscape: { file: 'landscape.mp4', display: [1280, 720], audio: true },
  portrait: { file: 'portrait.mp4', display: [480, 854], audio: true },
  rotated: { file: 'rotated.mp4', display: [360, 640], audio: true },
  silent: { file: 'silent.mp4', display: [640, 360], audio: false },
  tenBitOdd: { file: 'ten-bit-odd.mkv', display: [499, 283], audio: true },
  webm: { file: 'vp9.webm', display: [640, 360], audio: true },
} as const;
export type ClipName = keyof typeof CLIPS;

export const BAD_INPUTS = {
  empty: { file: 'empty.mp4', code: 'empty_file' },
  text: { file: 'notes.mp4', code: 'unreadable' },
  truncated: { file: 'truncated.mp4', code: 'unreadable' },
  image: { file: 'still.png', code: 'not_a_video' },
  audioOnly: { file: 'audio.m4a', code: 'no_video_stream' },
} as const;

function ff(args: string[]): void {
  execFileSync(resolveFfmpeg().ffmpeg, ['-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
const src = (size: string, fps = 30) => ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}`];

/** Writes one clip into `dir` (`seconds` long) and returns its path. */
export function makeClip(dir: string, name: ClipName, seconds = 6): string {
  const out = join(dir, CLIPS[name].file);
  const t = ['-t', String(seconds)];
  const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  const aac = ['-c:a', 'aac', '-shortest'];
  switch (name) {
    case 'landscape':
      ff([...src('1280x720'), ...tone, ...t, ...h264, ...aac, out]);
      break;
    case 'portrait':
      ff([...src('480x854'), ...tone, ...t, ...h264, ...aac, out]);
      break;
    case 'rotated': {
      // a phone video: stored landscape, displayed portrait through the rotation matrix
      const raw = join(dir, 'rotated-raw.mp4');
      ff([...src('640x360'), ...tone, ...t, ...h264, ...aac, raw]);
      ff(['-i', raw, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', out]);
      break;
    }
    case 'silent':
      ff([...src('640x360'), ...t, ...h264, out]);
      break;
    case 'tenBitOdd':
      ff([
        ...src('500x284', 25),
        ...tone,
        ...t,
        '-vf',
        'scale=499:283',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-pix_fmt',
        'yuv444p10le',
        '-c:a',
        'aac',
        '-shortest',
        out,
      ]);
      break;
    case 'webm':
      ff([
        ...src('640x360'),
        ...tone,
        ...t,
        '-c:v',
        'libvpx-vp9',
        '-deadline',
        'realtime',
        '-cpu-used',
        '8',
        '-b:v',
        '800k',
        '-c:a',
        'libopus',
        '-shortest',
        out,
      ]);
      break;
  }
  return out;
}

/** Writes one bad input into `dir` and returns its path. */
export function makeBadInput(dir: string, name: keyof typeof BAD_INPUTS): string {
  const out = join(dir, BAD_INPUTS[name].file);
  switch (name) {
    case 'empty':
      writeFileSync(out, '');
      break;
    case 'text':
      writeFileSync(out, 'These are my notes, not a video.\n'.repeat(200));
      break;
    case 'truncated': {
      const whole = makeClip(dir, 'landscape', 4);
      copyFileSync(whole, out);
      // a cut upload: the index (moov, written last) never arrived
      truncateSync(out, Math.floor(readFileSync(whole).length * 0.4));
      break;
    }
    case 'image':
      ff([...src('640x360'), '-frames:v', '1', out]);
      break;
    case 'audioOnly':
      ff([...tone, '-t', '3', '-c:a', 'aac', out]);
      break;
  }
  return out;
}
