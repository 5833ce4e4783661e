import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { FINAL_STATUSES } from '@reel/vocabulary';

/** POST /v1/videos with the file streamed from disk as multipart/form-data. */
export async function uploadFile(baseUrl: string, token: string | undefined, file: string, fields: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('file', await openAsBlob(file), basename(file));
  return fetch(`${baseUrl}/v1/videos`, { method: 'POST', body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/** Polls GET /v1/videos/:id until its status is one of `until` (a final one by default); returns the video. */
export async function waitForVideo(
  baseUrl: string,
  token: string,
  id: string,
  until: string[] = [...FINAL_STATUSES],
  timeoutMs = 120_000,
): Promise<Record<string, unknown> & { status: string }> {
  const deadline = Date.now() + timeoutMs;
  let last: (Record<string, unknown> & { status: string }) | undefined;
  while (Date.now() < deadline) {
    const res = await fetch(`${baseUrl}/v1/videos/${id}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.ok) {
      last = (await res.json()) as Record<string, unknown> & { status: string };
      if (until.includes(last.status)) return last;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`video ${id} did not reach ${until.join('/')} within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}
