// @ts-check
// The watch page: hls.js player with custom, keyboard-usable controls, a quality selector
// (Auto + every level of the ladder) and storyboard previews over the seek bar.

import { api, loadScript } from './api.js';
import { formatBitrate, formatTime, formatWhen, progressText, spokenTime, STATUS_LABELS } from './format.js';
import { follow } from './live.js';

const HLS_SCRIPT = '/ui/vendor/hls.min.js';

/**
 * Parses the storyboard WebVTT: cues whose text is `URL#xywh=x,y,w,h`.
 * @returns {{ start: number, end: number, url: string, x: number, y: number, w: number, h: number }[]}
 */
export function parseStoryboard(text, base) {
  const time = (s) => {
    const parts = s.trim().split(':').map(Number);
    return parts.reduce((acc, p) => acc * 60 + p, 0);
  };
  const cues = [];
  for (const block of text.replace(/\r\n?/g, '\n').split(/\n{2,}/)) {
    const lines = block.split('\n').filter(Boolean);
    const at = lines.findIndex((l) => l.includes('-->'));
    if (at < 0 || !lines[at + 1]) continue;
    const [from, to] = lines[at].split('-->');
    const ref = lines[at + 1].trim();
    const m = /^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(ref);
    if (!m) continue;
    cues.push({ start: time(from), end: time(to.trim().split(/\s+/)[0]), url: new URL(m[1], base).href, x: +m[2], y: +m[3], w: +m[4], h: +m[5] });
  }
  return cues;
}

/** The share link and the embed code of a video anyone with the link may watch. */
export function shareCodes(origin, id, title) {
  const link = `${origin}/#/watch/${id}`;
  const esc = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const embed = `<iframe src="${origin}/embed/${id}" width="640" height="360" title="${esc(title)}" frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>`;
  return { link, embed };
}

/**
 * Renders the watch page for `id` into `container`; returns a function that tears it down
 * (stops the player and any live updates). `token`: the one to use instead of the session's
 * (`''`: none, as a visitor); `embed`: the player alone (the embed page).
 * @param {HTMLElement} container
 * @param {string} id
 * @param {{ onTitle: (title: string) => void, token?: string, embed?: boolean }} options
 */
export function showWatch(container, id, { onTitle, token, embed = false }) {
  const template = /** @type {HTMLTemplateElement} */ (document.getElementById('tpl-watch'));
  const root = /** @type {HTMLElement} */ (template.content.firstElementChild.cloneNode(true));
  container.replaceChildren(root);
  const q = (sel) => /** @type {any} */ (root.querySelector(sel));
  const player = q('.player');
  const video = /** @type {HTMLVideoElement} */ (q('.player-video'));
  const overlay = q('.player-overlay');
  const state = q('.watch-state');
  const playBtn = q('.play');
  const seek = /** @type {HTMLInputElement} */ (q('.seek-input'));
  const seekBox = q('.seek');
  const preview = q('.seek-preview');
  const previewImage = q('.seek-preview-image');
  const previewTime = q('.seek-preview-time');
  const timeCurrent = q('.time-current');
  const timeDuration = q('.time-duration');
  const muteBtn = q('.mute');
  const volume = /** @type {HTMLInputElement} */ (q('.volume'));
  const quality = /** @type {HTMLSelectElement} */ (q('.quality-select'));
  const fullscreenBtn = q('.fullscreen');

  const cleanups = [];
  let hls = null;
  let destroyed = false;
  let storyboard = [];
  let duration = 0;
  /** The duration the catalog knows (the probe's): a growing EVENT playlist is shorter until it ends. */
  let knownDuration = 0;
  let scrubbing = false;
  let started = false;

  // ---------- the page around the player ----------
  const showOverlay = (text) => {
    overlay.hidden = !text;
    overlay.textContent = text ?? '';
  };

  function describe(v) {
    setTitle(v.title);
    onTitle(v.title);
    q('.watch-description').textContent = v.description ?? '';
    const meta = [];
    if (v.duration) meta.push(formatTime(v.duration));
    if (v.source?.width) meta.push(`${v.source.width}×${v.source.height}`);
    if (v.renditions?.length) meta.push(`${v.renditions.length} qualit${v.renditions.length === 1 ? 'y' : 'ies'}`);
    if (typeof v.views === 'number') meta.push(`${v.views.toLocaleString()} view${v.views === 1 ? '' : 's'}`);
    meta.push({ public: 'Public', unlisted: 'Unlisted' }[v.visibility] ?? 'Private');
    meta.push(`uploaded ${formatWhen(v.createdAt)}`);
    q('.watch-meta').textContent = meta.filter(Boolean).join(' · ');
    showShare(v);
    if (v.duration) {
      knownDuration = v.duration;
      setDuration(v.duration);
    }
  }

  /** Share link and embed code, for a video others may watch (public or unlisted). */
  function showShare(v) {
    const share = q('.share');
    if (!share) return;
    share.hidden = embed || v.visibility === 'private';
    if (share.hidden) return;
    const codes = shareCodes(location.origin, v.id, v.title);
    q('.share-link').value = codes.link;
    q('.share-embed').value = codes.embed;
  }
  for (const [button, field] of [
    ['.copy-link', '.share-link'],
    ['.copy-embed', '.share-embed'],
  ]) {
    const el = q(button);
    if (!el) continue;
    el.addEventListener('click', () => {
      const input = q(field);
      input.select();
      navigator.clipboard?.writeText(input.value).then(
        () => {
          el.textContent = 'Copied';
          setTimeout(() => {
            el.textContent = 'Copy';
          }, 1500);
        },
        () => {
          // selected: the viewer copies it by hand
        },
      );
    });
  }
  if (embed) {
    root.classList.add('watch-embed');
    // the title leads to the full page, in a new tab (an embed lives on someone else's site)
    const title = q('.watch-title');
    const a = document.createElement('a');
    a.href = `/#/watch/${encodeURIComponent(id)}`;
    a.target = '_blank';
    a.rel = 'noopener';
    title.replaceChildren(a);
  }
  const setTitle = (text) => {
    const title = q('.watch-title');
    (title.firstElementChild ?? title).textContent = text;
  };

  function showStatus(v) {
    player.dataset.status = v.status;
    if (v.status === 'ready') {
      state.textContent = '';
      return;
    }
    const label = STATUS_LABELS[v.status] ?? v.status;
    if (v.status === 'processing' && v.playable) {
      // it plays already: what is packaged so far, the rest as it comes
      state.textContent = `${label}${progressText(v) ? `: ${progressText(v)}` : ''}. It plays while the rest is processed.`;
      return;
    }
    const text =
      v.status === 'failed'
        ? `This video could not be processed: ${v.error?.message ?? 'unknown error'}.`
        : `${label}${progressText(v) ? `: ${progressText(v)}` : ''}. It will play here as soon as it is ready.`;
    state.textContent = text;
    showOverlay(v.status === 'failed' ? 'Processing failed' : label);
    setControls(false);
  }

  function setControls(enabled) {
    for (const el of root.querySelectorAll('.controls button, .controls input, .controls select')) /** @type {HTMLInputElement} */ (el).disabled = !enabled;
  }

  // ---------- player ----------
  function setDuration(d) {
    if (!Number.isFinite(d) || d <= 0) return;
    d = Math.max(d, knownDuration);
    duration = d;
    seek.max = String(d);
    timeDuration.textContent = formatTime(d);
    updateTime();
  }

  function updateTime() {
    const t = scrubbing ? Number(seek.value) : video.currentTime;
    if (!scrubbing) seek.value = String(t);
    timeCurrent.textContent = formatTime(t);
    seek.setAttribute('aria-valuetext', `${spokenTime(t)} of ${spokenTime(duration)}`);
  }

  const togglePlay = () => {
    if (video.paused || video.ended) video.play().catch(() => {});
    else video.pause();
  };
  const skip = (delta) => {
    video.currentTime = Math.min(Math.max(0, video.currentTime + delta), duration || video.duration || 0);
  };
  const toggleMute = () => {
    video.muted = !video.muted;
  };
  const toggleFullscreen = () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else player.requestFullscreen?.().catch(() => {});
  };

  const on = (target, type, fn, opts) => {
    target.addEventListener(type, fn, opts);
    cleanups.push(() => target.removeEventListener(type, fn, opts));
  };

  // the view beacon: once per page, when playback first starts (the server counts one per viewer per 30 minutes)
  let viewSent = false;
  on(video, 'playing', () => {
    if (viewSent) return;
    viewSent = true;
    api(`/v1/videos/${encodeURIComponent(id)}/views`, { method: 'POST', token })
      .then((r) => {
        if (r?.counted) player.dataset.viewCounted = 'true';
      })
      .catch(() => {
        // a view not counted is not the viewer's problem
      });
  });
  on(video, 'play', () => {
    player.dataset.state = 'playing';
    playBtn.setAttribute('aria-label', 'Pause');
  });
  on(video, 'pause', () => {
    player.dataset.state = 'paused';
    playBtn.setAttribute('aria-label', 'Play');
  });
  on(video, 'ended', () => {
    player.dataset.state = 'paused';
    playBtn.setAttribute('aria-label', 'Play again');
  });
  on(video, 'timeupdate', updateTime);
  on(video, 'durationchange', () => setDuration(video.duration));
  on(video, 'loadedmetadata', () => setDuration(video.duration));
  on(video, 'volumechange', () => {
    player.dataset.muted = String(video.muted || video.volume === 0);
    muteBtn.setAttribute('aria-pressed', String(video.muted));
    muteBtn.setAttribute('aria-label', video.muted ? 'Unmute' : 'Mute');
    volume.value = String(video.muted ? 0 : video.volume);
  });
  on(video, 'click', togglePlay);
  on(playBtn, 'click', togglePlay);
  on(muteBtn, 'click', toggleMute);
  on(fullscreenBtn, 'click', toggleFullscreen);
  on(volume, 'input', () => {
    video.volume = Number(volume.value);
    video.muted = video.volume === 0;
  });

  // the seek bar: the time and preview follow the thumb; the seek happens when it is let go
  // (or at once for each key press), so dragging does not make the player fetch every segment
  on(seek, 'pointerdown', () => {
    scrubbing = true;
  });
  on(seek, 'input', () => {
    if (!scrubbing) {
      video.currentTime = Number(seek.value);
      showPreview(Number(seek.value), { hideAfter: 1200 });
    } else showPreview(Number(seek.value));
    updateTime();
  });
  on(seek, 'change', () => {
    video.currentTime = Number(seek.value);
    scrubbing = false;
  });
  // released without a change (or outside the bar): stop scrubbing; a change seeks by itself
  on(window, 'pointerup', () => {
    if (!scrubbing) return;
    setTimeout(() => {
      if (!scrubbing) return;
      scrubbing = false;
      if (Math.abs(Number(seek.value) - video.currentTime) > 0.25) video.currentTime = Number(seek.value);
    }, 0);
  });
  on(seek, 'blur', () => hidePreview());
  on(seekBox, 'pointermove', (e) => {
    const rect = seek.getBoundingClientRect();
    const frac = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    showPreview(frac * duration);
  });
  on(seekBox, 'pointerleave', () => {
    if (!scrubbing) hidePreview();
  });

  // keyboard: while focus is anywhere in the player
  on(player, 'keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = /** @type {HTMLElement} */ (e.target);
    const tag = target.tagName;
    if (tag === 'SELECT') return;
    const key = e.key.toLowerCase();
    if ((key === ' ' || key === 'enter') && tag === 'BUTTON') return; // the button's own action
    if (tag === 'INPUT' && ['arrowleft', 'arrowright', 'arrowup', 'arrowdown', 'home', 'end', 'pageup', 'pagedown'].includes(key)) return;
    const actions = {
      ' ': togglePlay,
      k: togglePlay,
      arrowleft: () => skip(-5),
      arrowright: () => skip(5),
      j: () => skip(-10),
      l: () => skip(10),
      m: toggleMute,
      f: toggleFullscreen,
    };
    const action = actions[key];
    if (action) {
      e.preventDefault();
      action();
    }
  });
  // the video itself can take focus, so the shortcuts work without tabbing to a control
  video.tabIndex = 0;
  video.setAttribute('aria-label', 'Video; Space to play or pause');

  let hideTimer;
  /** @param {number} t @param {{ hideAfter?: number }} [options] */
  function showPreview(t, { hideAfter } = {}) {
    if (!duration) return;
    clearTimeout(hideTimer);
    const cue = storyboard.find((c) => t >= c.start && t < c.end) ?? (t >= duration - 0.5 ? storyboard[storyboard.length - 1] : undefined);
    if (cue) {
      previewImage.hidden = false;
      previewImage.style.width = `${cue.w}px`;
      previewImage.style.height = `${cue.h}px`;
      previewImage.style.backgroundImage = `url("${cue.url}")`;
      previewImage.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
    } else previewImage.hidden = true;
    previewTime.textContent = formatTime(t);
    preview.hidden = false;
    const width = seek.getBoundingClientRect().width;
    const half = (cue?.w ?? 40) / 2 + 2;
    const x = Math.min(Math.max((t / duration) * width, half), Math.max(half, width - half));
    preview.style.left = `${x}px`;
    preview.dataset.time = String(t);
    if (hideAfter) hideTimer = setTimeout(hidePreview, hideAfter);
  }
  function hidePreview() {
    clearTimeout(hideTimer);
    preview.hidden = true;
  }

  async function loadStoryboard(url) {
    try {
      const res = await fetch(url);
      if (!res.ok) return;
      storyboard = parseStoryboard(await res.text(), url);
      // fetch the sprite now, so the first hover shows it at once
      for (const src of new Set(storyboard.map((c) => c.url))) {
        const img = new Image();
        img.src = src;
      }
      seekBox.dataset.storyboard = String(storyboard.length);
    } catch {
      // no previews: the seek bar still works
    }
  }

  function levelLabel(level, renditions) {
    const r = renditions.find((x) => x.width === level.width && x.height === level.height);
    const name = r?.name ?? `${Math.min(level.width, level.height)}p`;
    return `${name} · ${formatBitrate(level.bitrate)}`;
  }

  let storyboardUrl = '';
  /** Poster and storyboard: they may come after playback started (while processing, images come later). */
  function showImages(v) {
    if (v.playback?.poster && !video.poster) video.poster = v.playback.poster;
    if (v.playback?.storyboard && !storyboardUrl) {
      storyboardUrl = v.playback.storyboard;
      loadStoryboard(storyboardUrl);
    }
  }

  async function startPlayer(v) {
    const src = v.playback?.hls;
    if (!src) return showOverlay('This video has no playback link.');
    showImages(v);
    if (started) return;
    started = true;
    showOverlay('');
    // the controls are enabled once the player has its source: a play pressed before would be
    // interrupted by the source being set ("play() request was interrupted by a new load request")
    const renditions = v.renditions ?? [];
    try {
      await loadScript(HLS_SCRIPT);
    } catch {
      // without hls.js, a browser that plays HLS natively still can
    }
    if (destroyed) return;
    const Hls = /** @type {any} */ (window).Hls;
    if (Hls?.isSupported()) {
      // startPosition 0: a video still processing is an EVENT playlist, which starts at its beginning
      hls = new Hls({ capLevelToPlayerSize: true, startLevel: -1, startPosition: 0 });
      let mediaRetried = false;
      hls.on(Hls.Events.MANIFEST_PARSED, () => {
        const options = hls.levels
          .map((level, index) => ({ level, index }))
          .sort((a, b) => b.level.height - a.level.height || b.level.bitrate - a.level.bitrate)
          .map(({ level, index }) => new Option(levelLabel(level, renditions), String(index)));
        quality.replaceChildren(new Option('Auto', '-1'), ...options);
        quality.value = '-1';
        quality.disabled = false;
      });
      hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
        const level = hls.levels[data.level];
        player.dataset.level = String(data.level);
        if (level && hls.autoLevelEnabled) quality.options[0].textContent = `Auto (${levelLabel(level, renditions).split(' · ')[0]})`;
      });
      hls.on(Hls.Events.ERROR, (_e, data) => {
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
          showOverlay('The connection was lost. Retrying…');
          hls.startLoad();
        } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !mediaRetried) {
          mediaRetried = true;
          hls.recoverMediaError();
        } else {
          showOverlay(`This video cannot be played here (${data.details}).`);
          hls.destroy();
          hls = null;
        }
      });
      hls.on(Hls.Events.FRAG_BUFFERED, () => {
        if (overlay.textContent.startsWith('The connection')) showOverlay('');
      });
      hls.on(Hls.Events.MEDIA_ATTACHED, () => setControls(true));
      hls.loadSource(src);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      // Safari: native HLS picks the quality itself
      video.src = src;
      setControls(true);
      quality.replaceChildren(new Option('Auto', '-1'));
      quality.disabled = true;
      quality.title = 'This browser chooses the quality itself';
    } else {
      showOverlay('This browser cannot play HLS video.');
      setControls(false);
    }
  }

  on(quality, 'change', () => {
    if (!hls) return;
    const level = Number(quality.value);
    // a manual choice switches at once (the buffer is flushed); Auto lets hls.js adapt again
    hls.currentLevel = level;
    if (level === -1) quality.options[0].textContent = 'Auto';
  });

  // ---------- load ----------
  setTitle('Loading…');
  showOverlay('Loading…');
  setControls(false);
  let unfollow;
  const load = async () => {
    let v;
    try {
      v = await api(`/v1/videos/${encodeURIComponent(id)}`, { token });
    } catch (err) {
      if (destroyed) return;
      const text = err.status === 404 ? 'This video does not exist, or it is not yours to watch.' : `The video could not be loaded: ${err.message}`;
      setTitle('Video not found');
      onTitle('Video not found');
      state.textContent = text;
      showOverlay(err.status === 404 ? 'Not found' : 'Error');
      return;
    }
    if (destroyed) return;
    describe(v);
    showStatus(v);
    if (v.status === 'ready' || (v.status === 'processing' && v.playable)) startPlayer(v);
    if (v.status === 'ready' || v.status === 'failed' || unfollow) return;
    unfollow = follow(
      id,
      (type, data) => {
        if (type === 'gone') {
          state.textContent = 'This video has been deleted.';
          return;
        }
        if (type === 'progress') v = { ...v, status: 'processing', progress: { stage: data.stage, percent: data.percent } };
        else v = { ...v, ...data };
        if (type === 'ready' || type === 'failed') {
          unfollow = undefined;
          load();
        } else if (type === 'playable' && !started) {
          // the first chunks are packaged: fetch the playback link and play at once
          load();
        } else showStatus(v);
      },
      { token },
    );
  };
  load();

  return () => {
    destroyed = true;
    unfollow?.();
    for (const c of cleanups) c();
    clearTimeout(hideTimer);
    if (hls) hls.destroy();
    video.removeAttribute('src');
    video.load();
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  };
}
