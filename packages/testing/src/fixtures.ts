import type { Probe, Rung } from '@reel/events';

/** What ffprobe says of a 10 s 1080p30 H.264 MP4 with audio; a test overrides what it is about. */
export const probeOf = (p: Partial<Probe> = {}): Probe => ({
  durationSec: 10,
  width: 1920,
  height: 1080,
  displayWidth: 1920,
  displayHeight: 1080,
  rotation: 0,
  fps: 30,
  videoCodec: 'h264',
  pixFmt: 'yuv420p',
  bitrate: 5_000_000,
  hasAudio: true,
  container: 'mov,mp4',
  ...p,
});

/** A rung of a ladder at `width`×`height`, 30 fps, 1 Mb/s video and 96 kb/s audio unless told otherwise. */
export const rungOf = (name: string, width: number, height: number, r: Partial<Rung> = {}): Rung => ({
  name,
  width,
  height,
  videoBitrate: 1_000_000,
  maxrate: 1_500_000,
  bufsize: 2_000_000,
  audioBitrate: 96_000,
  fps: 30,
  ...r,
});

/**
 * Webhook targets inside the network (private, loopback, cloud metadata, IPv6 loopback, behind
 * https too): the webhooks service refuses every one unless WEBHOOK_ALLOW_PRIVATE is set.
 */
export const INTERNAL_URLS = [
  'http://10.1.2.3/hook',
  'http://127.0.0.1:9/hook',
  'http://169.254.169.254/latest/meta-data',
  'http://[::1]/hook',
  'https://192.168.0.10/',
];
