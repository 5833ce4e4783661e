import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Parser } from 'm3u8-parser';

const run = promisify(execFile);

export interface ParsedPlaylist {
  playlists?: { uri: string; attributes: Record<string, unknown> }[];
  segments?: { uri: string; duration: number }[];
  targetDuration?: number;
  endList?: boolean;
  playlistType?: string;
}

/** Parses with a real HLS parser (videojs' m3u8-parser), as players do. */
export function parseM3u8(text: string): ParsedPlaylist {
  const p = new Parser();
  p.push(text);
  p.end();
  return p.manifest as ParsedPlaylist;
}

export async function fetchText(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** Streams of a media file as ffprobe sees them. */
export async function probeStreams(
  fileOrUrl: string,
): Promise<{ codec_type: string; codec_name: string; profile?: string; pix_fmt?: string; width?: number; height?: number }[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', fileOrUrl]);
  return (JSON.parse(stdout) as { streams: never[] }).streams;
}

/** Decodes the whole file; resolves with ffmpeg's error output (empty when it decoded cleanly). */
export async function decodeErrors(url: string): Promise<string> {
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', url, '-f', 'null', '-']);
  return stderr.trim();
}
