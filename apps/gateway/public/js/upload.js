// @ts-check
// Uploads: resumable with tus (POST /v1/tus, then PATCHes; an interrupted upload of the same
// file continues where it stopped, even after a reload), or, where the server has no tus
// endpoint, the direct flow (POST /v1/uploads → PUT to the presigned URL → complete).

import { api, announce, loadScript, session } from './api.js';
import { formatBytes } from './format.js';

const TUS_SCRIPT = '/ui/vendor/tus.min.js';
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * @param {{
 *   onCreated: (id: string) => void,
 *   onProgress: (id: string, percent: number) => void,
 *   onUploaded: (id: string) => void,
 *   onCancelled: (id: string) => void,
 * }} hooks what the library does as an upload goes
 */
export function setupUpload(hooks) {
  const form = /** @type {HTMLFormElement} */ ($('upload-form'));
  const fileInput = /** @type {HTMLInputElement} */ ($('upload-file'));
  const nameInput = /** @type {HTMLInputElement} */ ($('upload-name'));
  const description = /** @type {HTMLTextAreaElement} */ ($('upload-description'));
  const visibility = /** @type {HTMLSelectElement} */ ($('upload-visibility'));
  const box = $('upload-status');
  const progress = /** @type {HTMLProgressElement} */ ($('upload-progress'));
  const percent = $('upload-percent');
  const detail = $('upload-detail');
  const message = $('upload-message');
  const method = $('upload-method');
  const pauseBtn = /** @type {HTMLButtonElement} */ ($('upload-pause'));
  const cancelBtn = /** @type {HTMLButtonElement} */ ($('upload-cancel'));
  const dismissBtn = /** @type {HTMLButtonElement} */ ($('upload-dismiss'));

  /** The upload in progress: pause/resume/cancel act on it. */
  let current = null;

  const setBusy = (busy) => {
    for (const el of form.elements) /** @type {HTMLInputElement} */ (el).disabled = busy;
  };

  let lastAnnounced = 0;
  let rate = { t: 0, bytes: 0, bps: 0 };
  const showProgress = (sent, total) => {
    const pct = total > 0 ? (sent / total) * 100 : 0;
    // 100% only once the server has confirmed the whole file
    const shown = sent >= total ? 99 : Math.floor(pct);
    progress.value = Math.min(pct, 99.9);
    progress.textContent = `${shown}%`;
    percent.textContent = `${shown}%`;
    const now = performance.now();
    if (now - rate.t > 1000) {
      if (rate.t) rate.bps = 0.6 * rate.bps + 0.4 * (((sent - rate.bytes) * 1000) / (now - rate.t));
      rate = { t: now, bytes: sent, bps: rate.bps };
    }
    const left = rate.bps > 0 ? Math.ceil((total - sent) / rate.bps) : undefined;
    detail.textContent =
      `${formatBytes(sent)} of ${formatBytes(total)}` +
      (rate.bps > 0 ? ` · ${formatBytes(rate.bps)}/s` : '') +
      (left !== undefined && left > 0 ? ` · about ${left < 90 ? `${left} s` : `${Math.round(left / 60)} min`} left` : '');
    // screen readers hear every quarter, not every tick
    const quarter = Math.floor(pct / 25) * 25;
    if (quarter > lastAnnounced && quarter < 100) {
      lastAnnounced = quarter;
      announce(`Upload ${quarter}% done`);
    }
    if (current?.id) hooks.onProgress(current.id, pct);
  };

  const done = (id) => {
    progress.value = 100;
    progress.textContent = '100%';
    percent.textContent = '100%';
    box.dataset.state = 'done';
    message.textContent = 'Uploaded. Processing has started: follow it in the library below.';
    pauseBtn.hidden = true;
    cancelBtn.hidden = true;
    dismissBtn.hidden = false;
    current = null;
    setBusy(false);
    form.reset();
    hooks.onUploaded(id);
  };

  const fail = (text) => {
    box.dataset.state = 'failed';
    message.textContent = text;
    pauseBtn.hidden = true;
    cancelBtn.hidden = true;
    dismissBtn.hidden = false;
    current = null;
    setBusy(false);
  };

  window.addEventListener('beforeunload', (e) => {
    if (current && !current.paused) e.preventDefault();
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = fileInput.files?.[0];
    if (!file) {
      fileInput.setAttribute('aria-invalid', 'true');
      box.hidden = false;
      box.dataset.state = 'failed';
      message.textContent = 'Choose a video file first.';
      fileInput.focus();
      return;
    }
    fileInput.removeAttribute('aria-invalid');
    const meta = {
      filename: file.name,
      title: nameInput.value.trim() || file.name.replace(/\.[^.]*$/, '') || 'Untitled',
      description: description.value.trim(),
      visibility: visibility.value,
    };
    box.hidden = false;
    box.dataset.state = 'uploading';
    $('upload-file-name').textContent = meta.title === file.name ? file.name : `${meta.title} (${file.name})`;
    progress.value = 0;
    percent.textContent = '0%';
    detail.textContent = `0 B of ${formatBytes(file.size)}`;
    message.textContent = 'Starting the upload…';
    dismissBtn.hidden = true;
    cancelBtn.hidden = false;
    pauseBtn.hidden = true;
    lastAnnounced = 0;
    rate = { t: 0, bytes: 0, bps: 0 };
    setBusy(true);
    const started = await startTus(file, meta).catch(() => false);
    if (!started) await startDirect(file, meta);
  });

  /** Resolves false when this server has no tus endpoint (then the direct flow is used). */
  async function startTus(file, meta) {
    await loadScript(TUS_SCRIPT);
    const tus = /** @type {any} */ (window).tus;
    if (!tus?.isSupported) return false;
    const user = session.user;
    return new Promise((resolve) => {
      let created = false;
      const upload = new tus.Upload(file, {
        endpoint: new URL('/v1/tus', location.href).href,
        headers: { Authorization: `Bearer ${session.token}` },
        metadata: Object.fromEntries(Object.entries({ ...meta, filetype: file.type }).filter(([, v]) => v)),
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        // one user's interrupted upload is never offered to another on the same browser
        fingerprint: (f) => Promise.resolve(['reel-tus', user, f.name, f.type, f.size, f.lastModified].join('/')),
        onShouldRetry: (err, _attempt, options) => {
          const status = err?.originalResponse?.getStatus?.() ?? 0;
          if ([400, 401, 403, 404, 405, 409, 410, 413, 415].includes(status)) return false;
          return options.retryDelays != null;
        },
        onUploadUrlAvailable: () => {
          if (created) return;
          created = true;
          resolve(true);
          const id =
            String(upload.url)
              .replace(/[?#].*$/, '')
              .split('/')
              .filter(Boolean)
              .pop() ?? '';
          if (current) current.id = id;
          method.textContent = '(resumable upload)';
          box.dataset.method = 'tus';
          message.textContent = 'Uploading…';
          pauseBtn.hidden = false;
          hooks.onCreated(id);
        },
        onProgress: (sent, total) => showProgress(sent, total),
        onSuccess: () => done(current?.id ?? ''),
        onError: (err) => {
          const status = err?.originalResponse?.getStatus?.() ?? 0;
          if (!created && (status === 404 || status === 405)) {
            // no tus endpoint on this server
            current = null;
            resolve(false);
            return;
          }
          created = true;
          resolve(true);
          let reason = 'the connection was lost';
          try {
            const body = JSON.parse(err?.originalResponse?.getBody?.() ?? '');
            if (body?.error?.message) reason = body.error.message;
          } catch {
            if (status) reason = `the server answered ${status}`;
          }
          if (status === 401) window.dispatchEvent(new CustomEvent('reel:unauthorized'));
          fail(`The upload stopped: ${reason}. Choose the same file again to continue where it stopped.`);
        },
      });
      current = {
        id: '',
        kind: 'tus',
        paused: false,
        pause() {
          this.paused = true;
          upload.abort();
        },
        resume() {
          this.paused = false;
          upload.start();
        },
        async cancel() {
          current = null;
          await upload.abort(true).catch(() => {});
          return this.id;
        },
      };
      upload
        .findPreviousUploads()
        .then((previous) => {
          if (previous.length) {
            upload.resumeFromPreviousUpload(previous[0]);
            message.textContent = 'Continuing an earlier upload of this file…';
          }
          upload.start();
        })
        .catch(() => upload.start());
    });
  }

  async function startDirect(file, meta) {
    method.textContent = '(direct upload)';
    box.dataset.method = 'direct';
    let created;
    try {
      created = await api('/v1/uploads', { method: 'POST', body: { ...meta, size: file.size } });
    } catch (err) {
      return fail(`The upload could not start: ${err.message}`);
    }
    const id = created.videoId;
    const xhr = new XMLHttpRequest();
    current = {
      id,
      kind: 'direct',
      paused: false,
      async cancel() {
        current = null;
        xhr.abort();
        await api(`/v1/videos/${id}`, { method: 'DELETE' }).catch(() => {});
        return id;
      },
    };
    hooks.onCreated(id);
    message.textContent = 'Uploading…';
    const ok = await new Promise((resolve) => {
      xhr.open(created.method ?? 'PUT', created.url);
      for (const [k, v] of Object.entries(created.headers ?? {})) xhr.setRequestHeader(k, String(v));
      xhr.upload.onprogress = (ev) => {
        if (ev.lengthComputable) showProgress(ev.loaded, ev.total);
      };
      xhr.onload = () => resolve(xhr.status >= 200 && xhr.status < 300 ? true : `storage answered ${xhr.status}`);
      xhr.onerror = () => resolve('the connection was lost');
      xhr.onabort = () => resolve('cancelled');
      xhr.send(file);
    });
    if (ok === 'cancelled') return;
    if (ok !== true) return fail(`The upload stopped: ${ok}. Try again.`);
    try {
      await api(`/v1/uploads/${id}/complete`, { method: 'POST', body: {} });
    } catch (err) {
      return fail(`The upload could not be completed: ${err.message}`);
    }
    done(id);
  }

  pauseBtn.addEventListener('click', () => {
    if (!current?.pause) return;
    if (current.paused) {
      current.resume();
      pauseBtn.textContent = 'Pause';
      message.textContent = 'Uploading…';
      box.dataset.state = 'uploading';
    } else {
      current.pause();
      pauseBtn.textContent = 'Resume';
      message.textContent = `Paused at ${percent.textContent}. Resume here, or choose the same file later to continue.`;
      box.dataset.state = 'paused';
    }
  });

  cancelBtn.addEventListener('click', async () => {
    if (!current) return;
    const id = await current.cancel();
    pauseBtn.textContent = 'Pause';
    fail('Upload cancelled.');
    if (id) hooks.onCancelled(id);
  });

  dismissBtn.addEventListener('click', () => {
    box.hidden = true;
    dismissBtn.hidden = true;
    fileInput.focus();
  });

  return {
    /** Sign out: stop (but keep resumable) whatever is uploading. */
    reset() {
      if (current?.pause && !current.paused) current.pause();
      current = null;
      box.hidden = true;
      setBusy(false);
      form.reset();
    },
  };
}
