import { PermanentError, type Probe, RetryableError } from '@reel/events';
import { type ExecFailure, execTool } from './exec.ts';
import { describeFormat, explainFailure, inputGuard } from './guard.ts';

interface FfStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  bit_rate?: string;
  nb_frames?: string;
  duration?: string;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}
export interface FfOutput {
  streams?: FfStream[];
  format?: { duration?: string; bit_rate?: string; format_name?: string };
}

const IMAGE_CODECS = new Set(['png', 'mjpeg', 'jpeg2000', 'bmp', 'gif', 'webp', 'tiff', 'jpegls']);

function rate(s?: string): number {
  const [n, d] = (s ?? '0/1').split('/').map(Number);
  return n && d ? n / d : 0;
}

/** Rotation in degrees from side data (ffmpeg 5+) or the legacy `rotate` tag, normalised to 0/90/180/270. */
function rotationOf(s: FfStream): number {
  const raw = s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? Number(s.tags?.rotate ?? 0);
  return (((Math.round(raw / 90) * 90) % 360) + 360) % 360;
}

/** Turns ffprobe's JSON into a Probe, or a PermanentError saying why the file is not a playable video. */
export function interpretProbe(out: FfOutput): Probe {
  const streams = out.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const hasAudio = streams.some((s) => s.codec_type === 'audio');
  if (!video) {
    throw hasAudio
      ? new PermanentError('no_video_stream', 'the file has audio but no video stream')
      : new PermanentError('unsupported_format', 'the file has no audio or video stream');
  }
  const durationSec = Number(out.format?.duration ?? video.duration ?? 0);
  const frames = Number(video.nb_frames ?? 0);
  if (IMAGE_CODECS.has(video.codec_name ?? '') && (frames <= 1 || !(durationSec > 0.1))) {
    throw new PermanentError('not_a_video', `the file is a still image (${video.codec_name}), not a video`);
  }
  if (!video.width || !video.height) throw new PermanentError('unreadable', 'the video stream has no dimensions');
  if (!(durationSec > 0)) throw new PermanentError('unreadable', 'the video has no duration (truncated or damaged file?)');
  const rotation = rotationOf(video);
  const sideways = rotation === 90 || rotation === 270;
  return {
    durationSec,
    width: video.width,
    height: video.height,
    displayWidth: sideways ? video.height : video.width,
    displayHeight: sideways ? video.width : video.height,
    rotation,
    fps: Math.round((rate(video.avg_frame_rate) || rate(video.r_frame_rate)) * 1000) / 1000,
    videoCodec: video.codec_name ?? 'unknown',
    pixFmt: video.pix_fmt ?? 'unknown',
    bitrate: Math.round(Number(video.bit_rate ?? out.format?.bit_rate ?? 0)) || 0,
    hasAudio,
    container: out.format?.format_name ?? 'unknown',
  };
}

/**
 * Runs ffprobe on a file path or (presigned) URL, confined to real media containers read from
 * that one place (inputGuard): a playlist, manifest or concat list uploaded as a video is refused
 * before it opens anything. Errors carry one short sentence and never the URL.
 */
export async function probe(ffprobe: string, input: string, signal?: AbortSignal): Promise<Probe> {
  let stdout: string;
  try {
    stdout = await execTool(ffprobe, ['-v', 'error', ...inputGuard(input), '-print_format', 'json', '-show_format', '-show_streams', input], {
      signal,
      timeoutMs: 60_000,
    });
  } catch (err) {
    throw probeFailure(err as ExecFailure, input, signal);
  }
  return interpretProbe(JSON.parse(stdout) as FfOutput);
}

/** The error a failed ffprobe becomes: retryable when the source could not be reached, else why the file is refused. */
export function probeFailure(e: ExecFailure, input: string, signal?: AbortSignal): Error {
  if (e.code === 'ENOENT' || e.code === 127) return new RetryableError('ffprobe could not be started (is it installed?)');
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new RetryableError('ffprobe was stopped');
  if (e.killed || e.signal) return new RetryableError('ffprobe was stopped or timed out');
  const failure = explainFailure(e.stderr ?? '', input);
  if (failure.refusedFormat) {
    return new PermanentError('unsupported_format', `the file is ${describeFormat(failure.refusedFormat)}, not a video file`);
  }
  if (failure.transient) return new RetryableError(`could not read the source: ${failure.reason}`);
  return new PermanentError('unreadable', `the file is not a readable video: ${failure.reason}`);
}
