import { redactCredentials } from '@reel/runtime';

/**
 * Demuxers ffmpeg/ffprobe may use on an uploaded file: real media containers, raw streams, and
 * the still-image demuxers ingest needs to recognise (and refuse) a picture. Absent on purpose:
 * every format that opens further URLs or files (hls, dash, concat, sdp, rtsp, image2 patterns…).
 */
export const MEDIA_FORMATS = [
  'mov',
  'matroska',
  'webm',
  'avi',
  'flv',
  'mpegts',
  'mpeg',
  'mpegvideo',
  'm4v',
  'h264',
  'hevc',
  'ivf',
  'ogg',
  'asf',
  'mxf',
  'dv',
  'wav',
  'w64',
  'aiff',
  'caf',
  'mp3',
  'aac',
  'flac',
  'ac3',
  'eac3',
  'amr',
  'gif',
  'png_pipe',
  'jpeg_pipe',
  'bmp_pipe',
  'gif_pipe',
  'webp_pipe',
  'tiff_pipe',
].join(',');

const isUrl = (input: string) => /^https?:\/\//i.test(input);

/**
 * Input options that confine one ffmpeg/ffprobe input to a media container read from where it
 * was given: the file protocol for a local path, http(s) for a presigned URL. A playlist or
 * manifest uploaded as a video is refused ("Format not on whitelist") before it opens anything.
 */
export function inputGuard(input: string): string[] {
  return ['-format_whitelist', MEDIA_FORMATS, '-protocol_whitelist', isUrl(input) ? 'http,https,tcp,tls' : 'file'];
}

/** Network and machine faults: the same run may succeed later. */
const TRANSIENT =
  /Connection refused|Connection reset|Connection timed out|timed out|Network is unreachable|No route to host|Host is unreachable|Broken pipe|Server returned (4\d\d|5\d\d|5XX)|Temporary failure in name resolution|Failed to resolve hostname|Input\/output error|No space left on device|Cannot allocate memory|Resource temporarily unavailable/i;
/** What ffmpeg says when a remote source stops short of its length. */
const CUT_OFF = /Stream ends prematurely|End of file/i;
/** Lines that say nothing about the cause. */
const NOISE = /^(Conversion failed!|Exiting normally|Error opening (input|output) files?:?.*|Press \[q\].*|\s*)$/i;

export interface ToolFailure {
  /** True when the source could not be reached or the machine failed, not the media. */
  readonly transient: boolean;
  /** One line: the cause as ffmpeg put it, without its `[demuxer @ 0x…]` prefix, paths or URLs. */
  readonly reason: string;
  /** The demuxer ffmpeg refused under MEDIA_FORMATS (hls, dash, concat…), if that was the cause. */
  readonly refusedFormat?: string;
}

/**
 * Reads a failed ffmpeg/ffprobe run's stderr (run with `-v error`): whether it is the media's
 * fault, and the one line a user can be shown. `input` (a path or presigned URL) is cut out.
 */
export function explainFailure(stderr: string, input?: string): ToolFailure {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => !NOISE.test(l));
  const refused = lines.map((l) => /^\[([\w,]+) @ [^\]]+\] Format not on whitelist/.exec(l)).find(Boolean);
  const clean = (l: string) => {
    let s = l.replace(/^\[[^\]]+ @ [^\]]+\]\s*/, '');
    if (input && s.startsWith(`${input}: `)) s = s.slice(input.length + 2);
    s = s.replace(/\bhttps?:\/\/\S+/gi, 'the source');
    return redactCredentials(s).slice(0, 200);
  };
  // the last line names the outcome ("Invalid data found…"); an earlier one often the cause
  const reason = clean(lines.at(-1) ?? '') || 'unknown error';
  // a source read over HTTP that ends early was cut off (the S3 server stopped, a connection
  // dropped): the source itself was probed whole by ingest before any of this ran
  const remote = input !== undefined && /^https?:\/\//i.test(input);
  return {
    transient: lines.some((l) => TRANSIENT.test(l) || (remote && CUT_OFF.test(l))),
    reason: refused ? 'not a supported media container' : reason,
    ...(refused?.[1] ? { refusedFormat: refused[1] } : {}),
  };
}

const FORMAT_NAMES: Record<string, string> = { hls: 'an HLS playlist', dash: 'a DASH manifest', concat: 'a concat list' };

/** "an HLS playlist", "a DASH manifest", or "a <name> file": what a refused upload is. */
export const describeFormat = (name: string): string => FORMAT_NAMES[name] ?? `a ${name} file`;
