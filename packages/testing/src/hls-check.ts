export interface HlsCheck {
  /** Media playlists the master names. */
  playlists: number;
  /** Segments the media playlists name, all rungs together. */
  segments: number;
  /** Every URL a player would fetch that did not answer 2xx, with its status. */
  missing: string[];
  /** Segments a media playlist names more than once. */
  duplicates: number;
}

/**
 * Fetches what a player would for a ready video: the master playlist, each media playlist it
 * names, and the first byte of every segment those name (a Range request, as players seek). A
 * playlist naming a segment that is not in storage shows up in `missing`.
 */
export async function checkHls(masterUrl: string): Promise<HlsCheck> {
  const missing: string[] = [];
  const master = await fetchPlaylist(masterUrl, missing);
  let segments = 0;
  let duplicates = 0;
  for (const mediaUrl of master) {
    const segs = await fetchPlaylist(mediaUrl, missing);
    segments += segs.length;
    duplicates += segs.length - new Set(segs.map(strip)).size;
    // a few at a time: a ladder has tens of segments, a long video hundreds
    for (let i = 0; i < segs.length; i += 8) {
      await Promise.all(
        segs.slice(i, i + 8).map(async (url) => {
          const res = await fetch(url, { headers: { range: 'bytes=0-0' } }).catch((err: Error) => ({ ok: false, status: err.message, body: null }));
          await res.body?.cancel();
          if (!res.ok) missing.push(`${res.status} ${strip(url)}`);
        }),
      );
    }
  }
  return { playlists: master.length, segments, missing, duplicates };
}

/** The URIs a playlist names, resolved against its own URL; an unreadable playlist is noted in `missing`. */
async function fetchPlaylist(url: string, missing: string[]): Promise<string[]> {
  const res = await fetch(url).catch((err: Error) => ({ ok: false, status: err.message, text: async () => '' }));
  if (!res.ok) {
    missing.push(`${res.status} ${strip(url)}`);
    return [];
  }
  const text = await res.text();
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => new URL(l, url).toString());
}

/** A URL without its query: signatures make reports unreadable. */
const strip = (url: string) => url.split('?')[0] ?? url;
