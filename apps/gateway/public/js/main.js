// @ts-check
// Reel's web page: sign in with a token, upload, the library, the watch page. Hash routes:
// `#/` the library, `#/watch/<id>` a video. No framework, no build step.

import { api, announce, session, tokenProblem } from './api.js';
import { createLibrary } from './library.js';
import { stopAll } from './live.js';
import { setupUpload } from './upload.js';
import { showWatch } from './watch.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const views = { signin: $('view-signin'), library: $('view-library'), watch: $('view-watch') };
const publicVideos = $('public-videos');

const library = createLibrary();
const upload = setupUpload({
  onCreated: (id) => library.added(id),
  onProgress: (id, pct) => library.uploadProgress(id, pct),
  onUploaded: (id) => library.uploaded(id),
  onCancelled: (id) => library.remove(id),
});

let libraryLoadedFor = '';
let leaveWatch = null;
let firstRender = true;
/** The video last opened: back in the library, focus returns to its card. */
let lastWatched = '';

/**
 * @param {'signin' | 'library' | 'watch'} name
 * @param {{ title?: string, focus?: () => HTMLElement | null }} options
 */
function show(name, { title, focus }) {
  for (const [key, el] of Object.entries(views)) el.hidden = key !== name;
  publicVideos.hidden = name !== 'signin' || !publicVideos.dataset.count || publicVideos.dataset.count === '0';
  document.title = title ? `${title} · Reel` : 'Reel';
  // after a navigation, focus goes to the new view's heading (not on the first load)
  if (!firstRender && focus) requestAnimationFrame(() => focusTop(focus()));
  firstRender = false;
}

/** Moves focus to a view's heading (screen readers start there) and shows the view from its top. */
function focusTop(el) {
  if (!el) return;
  window.scrollTo(0, 0);
  el.focus({ preventScroll: true });
}

function renderAccount() {
  const user = session.token && !tokenProblem(session.token) ? session.user : '';
  $('account').hidden = !user;
  $('whoami').textContent = user;
}

function route() {
  renderAccount();
  const hash = location.hash;
  if (hash && !hash.startsWith('#/')) return; // an in-page anchor (the skip link)
  if (leaveWatch) {
    leaveWatch();
    leaveWatch = null;
  }
  const problem = session.token ? tokenProblem(session.token) : undefined;
  if (problem) {
    session.token = '';
    showTokenError(`${problem} Sign in again.`);
  }
  const watch = /^#\/watch\/([\w-]{1,64})$/.exec(hash);
  if (watch) {
    // a visitor (no token) watches what anyone may: public and unlisted videos
    const id = decodeURIComponent(watch[1]);
    const navigated = !firstRender;
    lastWatched = id;
    show('watch', { title: 'Watch' });
    leaveWatch = showWatch($('watch-body'), id, {
      ...(session.token ? {} : { token: '' }),
      onTitle: (title) => {
        document.title = `${title} · Reel`;
      },
    });
    if (navigated) requestAnimationFrame(() => focusTop($('watch-body').querySelector('.watch-title')));
    return;
  }
  if (!session.token) {
    show('signin', { title: 'Sign in', focus: () => $('signin-title') });
    loadPublicVideos();
    return;
  }
  if (libraryLoadedFor !== session.token) {
    libraryLoadedFor = session.token;
    library.load({ reset: true });
  }
  const cards = /** @type {HTMLElement[]} */ ([...document.querySelectorAll('#library-list li')]);
  const card = lastWatched ? cards.find((li) => li.dataset.id === lastWatched) : undefined;
  lastWatched = '';
  show('library', { title: 'Your videos', focus: () => (card ? null : $('library-title')) });
  if (card) requestAnimationFrame(() => /** @type {HTMLElement | null} */ (card.querySelector('.card-title a'))?.focus());
}

/** The latest public videos, for a visitor: each a link to its watch page. */
async function loadPublicVideos() {
  let items = [];
  try {
    ({ items } = await api('/v1/public/videos?limit=12', { token: '' }));
  } catch {
    // nothing to show: the sign-in form alone
  }
  const list = $('public-list');
  list.replaceChildren(
    ...items.map((v) => {
      const li = document.createElement('li');
      li.className = 'card';
      li.dataset.id = v.id;
      const a = document.createElement('a');
      a.href = `#/watch/${encodeURIComponent(v.id)}`;
      a.className = 'public-card';
      if (v.playback?.poster) {
        const img = document.createElement('img');
        img.src = v.playback.poster;
        img.alt = '';
        img.loading = 'lazy';
        a.append(img);
      }
      const title = document.createElement('span');
      title.className = 'card-title';
      title.textContent = v.title;
      a.append(title);
      li.append(a);
      return li;
    }),
  );
  publicVideos.dataset.count = String(items.length);
  publicVideos.hidden = views.signin.hidden || items.length === 0;
}

function showTokenError(text) {
  const error = $('token-error');
  error.textContent = text;
  error.hidden = !text;
  $('token').setAttribute('aria-invalid', text ? 'true' : 'false');
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = /** @type {HTMLTextAreaElement} */ ($('token'));
  // "Bearer …" pasted whole is fine too
  const token = input.value.trim().replace(/^bearer\s+/i, '');
  const problem = tokenProblem(token);
  if (problem) {
    showTokenError(problem);
    input.focus();
    return;
  }
  const button = /** @type {HTMLButtonElement} */ ($('signin-submit'));
  button.disabled = true;
  showTokenError('');
  try {
    // the server is the judge of the token: one cheap authenticated request
    await api('/v1/videos?limit=1', { token });
  } catch (err) {
    button.disabled = false;
    showTokenError(err.status === 401 ? `The server refused this token: ${err.message}` : err.message);
    input.focus();
    return;
  }
  button.disabled = false;
  input.value = '';
  session.token = token;
  announce(`Signed in as ${session.user}.`);
  if (!location.hash.startsWith('#/')) location.hash = '#/';
  route();
});

function signOut(reason) {
  stopAll();
  upload.reset();
  library.clear();
  libraryLoadedFor = '';
  session.token = '';
  showTokenError(reason ?? '');
  announce(reason ?? 'Signed out.');
  route();
}

$('sign-out').addEventListener('click', () => signOut());
window.addEventListener('reel:unauthorized', () => signOut('The server no longer accepts your token. Sign in again.'));
// signed in or out in another tab
window.addEventListener('storage', (e) => {
  if (e.key === 'reel.token' && e.newValue !== libraryLoadedFor) {
    stopAll();
    library.clear();
    libraryLoadedFor = '';
    route();
  }
});
window.addEventListener('hashchange', route);
$('skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  $('main').focus();
});

route();
