// @ts-check
// The library: GET /v1/videos page by page ("Load more"), one card per video, kept live while
// a video is processing (see live.js).

import { api, announce } from './api.js';
import { formatTime, formatWhen, progressText, STATUS_LABELS } from './format.js';
import { follow } from './live.js';

const PAGE_SIZE = 12;
const FINAL = new Set(['ready', 'failed']);
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

export function createLibrary() {
  const list = $('library-list');
  const more = /** @type {HTMLButtonElement} */ ($('library-more'));
  const message = $('library-message');
  const search = /** @type {HTMLInputElement} */ ($('search'));
  const template = /** @type {HTMLTemplateElement} */ ($('tpl-card'));

  /** @type {Map<string, { video: any, el: HTMLElement, unfollow?: () => void, uploadPercent?: number }>} */
  const items = new Map();
  let cursor = null;
  let query = '';
  let generation = 0;
  let loading = false;
  /** Uploads this page finished (their record may still say waiting_upload for a moment). */
  const finishedUploads = new Set();

  function render(item) {
    // the upload has finished: the pipeline has it, whatever the catalog said a moment ago
    if (item.video.status === 'waiting_upload' && finishedUploads.has(item.video.id)) item.video = { ...item.video, status: 'processing' };
    const { video, el } = item;
    el.dataset.id = video.id;
    el.dataset.status = video.status;
    const link = /** @type {HTMLAnchorElement} */ (el.querySelector('.card-title a'));
    link.href = `#/watch/${encodeURIComponent(video.id)}`;
    link.textContent = video.title;
    const badge = /** @type {HTMLElement} */ (el.querySelector('.badge'));
    badge.dataset.status = video.status;
    badge.textContent = STATUS_LABELS[video.status] ?? video.status;

    const uploading = video.status === 'waiting_upload' && item.uploadPercent !== undefined;
    const stage = el.querySelector('.card-stage');
    stage.textContent = uploading ? `Uploading · ${Math.floor(item.uploadPercent)}%` : progressText(video);
    const bar = /** @type {HTMLProgressElement} */ (el.querySelector('.card-progress'));
    const busy = video.status === 'processing' || uploading;
    bar.hidden = !busy;
    if (busy) {
      const pct = uploading ? item.uploadPercent : (video.progress?.percent ?? 0);
      bar.value = pct;
      bar.textContent = `${Math.round(pct)}%`;
      bar.setAttribute('aria-label', `${uploading ? 'Upload' : 'Processing'} of ${video.title}`);
    }

    const meta = [];
    if (video.duration) meta.push(formatTime(video.duration));
    if (video.source?.width) meta.push(`${video.source.width}×${video.source.height}`);
    if (video.visibility === 'public') meta.push('Public');
    if (video.visibility === 'unlisted') meta.push('Unlisted');
    if (video.views) meta.push(`${video.views.toLocaleString()} view${video.views === 1 ? '' : 's'}`);
    meta.push(formatWhen(video.createdAt));
    el.querySelector('.card-meta').textContent = meta.filter(Boolean).join(' · ');

    const error = /** @type {HTMLElement} */ (el.querySelector('.card-error'));
    error.hidden = video.status !== 'failed';
    error.textContent = video.status === 'failed' ? (video.error?.message ?? 'Processing failed.') : '';

    const thumb = el.querySelector('.card-thumb');
    const src = video.playback?.poster ?? video.playback?.thumbnails?.[0];
    const img = thumb.querySelector('img');
    if (src && img?.dataset.src !== src) {
      const next = document.createElement('img');
      next.alt = '';
      next.loading = 'lazy';
      next.decoding = 'async';
      next.src = src;
      next.dataset.src = src;
      thumb.replaceChildren(next);
    }
  }

  function watchLive(item) {
    if (item.unfollow || FINAL.has(item.video.status)) return;
    // a video still waiting for its bytes is followed once this page has sent them; one whose
    // upload was abandoned elsewhere would only hold one of the few streams open for nothing
    if (item.video.status === 'waiting_upload' && !finishedUploads.has(item.video.id)) return;
    item.unfollow = follow(item.video.id, (type, data) => {
      if (type === 'gone') return remove(item.video.id);
      if (type === 'progress') {
        item.video = { ...item.video, status: 'processing', progress: { stage: data.stage, percent: data.percent } };
        return render(item);
      }
      if (type === 'status') {
        item.video = { ...item.video, ...data };
        return render(item);
      }
      // ready or failed: the stream has ended; fetch the whole video (poster, duration, error)
      item.unfollow = undefined;
      item.video = { ...item.video, ...data };
      render(item);
      announce(
        type === 'ready' ? `“${item.video.title}” is ready to watch.` : `“${item.video.title}” failed: ${item.video.error?.message ?? 'processing failed'}.`,
      );
      api(`/v1/videos/${encodeURIComponent(item.video.id)}`)
        .then((v) => {
          if (!items.has(v.id)) return;
          item.video = v;
          render(item);
        })
        .catch(() => {});
    });
  }

  function upsert(video, { prepend = false } = {}) {
    let item = items.get(video.id);
    if (item) {
      item.video = { ...item.video, ...video };
    } else {
      const el = /** @type {HTMLElement} */ (template.content.firstElementChild.cloneNode(true));
      item = { video, el };
      items.set(video.id, item);
      if (prepend) list.prepend(el);
      else list.append(el);
    }
    render(item);
    watchLive(item);
    updateMessage();
    return item;
  }

  function remove(id) {
    const item = items.get(id);
    if (!item) return;
    item.unfollow?.();
    item.el.remove();
    items.delete(id);
    updateMessage();
  }

  function updateMessage() {
    if (loading) return;
    if (items.size) message.textContent = '';
    else message.textContent = query ? `No videos match “${query}”.` : 'No videos yet. Upload one above.';
  }

  function clear() {
    for (const item of items.values()) item.unfollow?.();
    items.clear();
    list.replaceChildren();
    cursor = null;
    more.hidden = true;
  }

  async function load({ reset = false } = {}) {
    const gen = reset ? ++generation : generation;
    if (reset) clear();
    loading = true;
    more.disabled = true;
    message.textContent = 'Loading…';
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor) params.set('cursor', cursor);
    if (query) params.set('q', query);
    try {
      const page = await api(`/v1/videos?${params}`);
      if (gen !== generation) return;
      loading = false;
      for (const v of page.items) upsert(v);
      cursor = page.nextCursor;
      more.hidden = !cursor;
      updateMessage();
    } catch (err) {
      if (gen !== generation) return;
      loading = false;
      message.textContent = `The library could not be loaded: ${err.message}`;
    } finally {
      more.disabled = false;
    }
  }

  more.addEventListener('click', async () => {
    const before = items.size;
    await load();
    // keyboard users continue at the first new card
    const first = [...items.values()][before];
    /** @type {HTMLElement | null | undefined} */ (first?.el.querySelector('.card-title a'))?.focus();
  });

  let debounce;
  const onSearch = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      const q = search.value.trim();
      if (q === query) return;
      query = q;
      load({ reset: true });
    }, 300);
  };
  search.addEventListener('input', onSearch);
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    onSearch();
  });

  return {
    load,
    clear() {
      generation++;
      clear();
      query = '';
      search.value = '';
      message.textContent = '';
    },
    /** A new upload: show it at the top at once and follow it. */
    async added(id) {
      // the catalog projects a new video a moment after the gateway has accepted it
      for (const wait of [0, 200, 500, 1000, 2000, 4000]) {
        if (wait) await new Promise((r) => setTimeout(r, wait));
        if (items.has(id)) return;
        try {
          upsert(await api(`/v1/videos/${encodeURIComponent(id)}`), { prepend: true });
          return;
        } catch (err) {
          if (err?.status !== 404) return;
        }
      }
    },
    uploadProgress(id, percent) {
      const item = items.get(id);
      if (!item) return;
      item.uploadPercent = percent;
      render(item);
    },
    uploaded(id) {
      finishedUploads.add(id);
      const item = items.get(id);
      if (!item) return this.added(id);
      item.uploadPercent = undefined;
      render(item);
      watchLive(item);
    },
    remove,
  };
}
