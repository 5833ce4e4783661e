// @ts-check
// The embed page (/embed/<id>): the watch page's player alone, for an iframe on another site.
// Never with the token this browser may hold for Reel: an embed shows only what anyone may watch.

import { showWatch } from './watch.js';

const id = decodeURIComponent(location.pathname.split('/').pop() ?? '');
showWatch(/** @type {HTMLElement} */ (document.getElementById('embed')), id, {
  token: '',
  embed: true,
  onTitle: (title) => {
    document.title = `${title} · Reel`;
  },
});
