// Live status over Server-Sent Events (GET /v1/videos/:id/events): `status` at once, `progress`
// as stages report, then `ready` or `failed` and the stream ends. A dropped stream is reopened.
import { isFinalStatus } from '@reel/vocabulary';
import { type Api, apiError, CliError, call, getVideo, type Video } from './api.ts';
import type { Progress } from './progress.ts';

export interface SseEvent {
  event: string;
  data: string;
}

/** Parses an SSE body into events (comments and keep-alives are skipped). */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (!line || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length || event !== 'message') yield { event, data: data.join('\n') };
      }
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Follows a video until it is ready or failed, showing each stage's progress; returns the final
 * video as GET /v1/videos/:id presents it (with renditions and playback URLs).
 * `appearWithinMs`: a just-uploaded video may take a moment to reach the catalog, so a 404 is
 * retried for that long before it counts.
 */
export async function followVideo(api: Api, id: string, progress: Progress, opts: { appearWithinMs?: number } = {}): Promise<Video> {
  const appearBy = Date.now() + (opts.appearWithinMs ?? 0);
  let drops = 0;
  let lastStage = '';
  for (;;) {
    // the token goes in the Authorization header (the API also takes ?access_token= for EventSource)
    const res = await call(api, `/v1/videos/${encodeURIComponent(id)}/events`, { headers: { accept: 'text/event-stream' } });
    if (res.status === 404 && Date.now() < appearBy) {
      await res.body?.cancel();
      await sleep(300);
      continue;
    }
    if (!res.ok) throw await apiError(res, `video ${id}`);
    if (!res.body) throw new CliError('the event stream has no body');
    let final: string | undefined;
    try {
      for await (const ev of readSse(res.body)) {
        let data: Record<string, unknown> = {};
        try {
          data = JSON.parse(ev.data || '{}') as Record<string, unknown>;
        } catch {
          continue;
        }
        const show = (p: unknown) => {
          const { stage, percent } = (p ?? {}) as { stage?: string; percent?: number };
          if (typeof stage !== 'string' || typeof percent !== 'number') return;
          lastStage = stage;
          progress.percent(stage, percent);
        };
        if (ev.event === 'status') {
          if (isFinalStatus(data.status)) final = data.status;
          else if (data.progress) show(data.progress);
          else if (data.status === 'waiting_upload' && !lastStage) progress.line('waiting for the upload to complete…');
        } else if (ev.event === 'progress') show(data);
        else if (isFinalStatus(ev.event)) final = ev.event;
        if (final) break;
      }
    } catch (err) {
      if (!(err instanceof TypeError) && (err as Error).name !== 'AbortError' && !(err as { code?: string }).code) throw err;
      // the connection dropped: reopen below
    }
    if (final) {
      if (lastStage && final === 'ready') {
        progress.percent(lastStage, 100);
        progress.done();
      } else progress.clear();
      return getVideo(api, id);
    }
    if (++drops > 20) throw new CliError(`the event stream for video ${id} keeps closing; try again with \`reel status ${id} --follow\``);
    await sleep(Math.min(5000, 250 * drops));
  }
}
