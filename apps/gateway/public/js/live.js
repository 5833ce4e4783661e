// @ts-check
// Live status of videos still processing: Server-Sent Events from GET /v1/videos/:id/events
// (`status`, `progress`, `playable` once it plays while processing, then `ready` or `failed`). One stream per video, shared by every view
// that watches it. A browser opens at most six HTTP/1.1 connections to one origin, so only a
// few streams are open at once; the other videos are polled until a stream is free.

import { api, session } from './api.js';

const MAX_STREAMS = 3;
const POLL_MS = 4000;
const FINAL = new Set(['ready', 'failed']);

/** @typedef {{ id: string, status: string, playable?: boolean, progress?: { stage: string, percent: number }, error?: { code: string, message: string } }} Summary */
/** @typedef {(type: 'status' | 'progress' | 'playable' | 'ready' | 'failed' | 'gone', data: any) => void} Listener */

/** @type {Map<string, { id: string, token?: string, listeners: Set<Listener>, es?: EventSource, timer?: number, done?: boolean }>} */
const entries = new Map();
let streams = 0;

function emit(entry, type, data) {
  for (const fn of [...entry.listeners]) {
    try {
      fn(type, data);
    } catch (err) {
      console.error(err);
    }
  }
}

function finish(entry, type, data) {
  entry.done = true;
  stop(entry);
  emit(entry, type, data);
  entries.delete(entry.id);
}

function stop(entry) {
  if (entry.es) {
    entry.es.close();
    entry.es = undefined;
    streams--;
    promote();
  }
  if (entry.timer) clearTimeout(entry.timer);
  entry.timer = undefined;
}

/** A stream was freed: give it to a video that is being polled. */
function promote() {
  for (const entry of entries.values()) {
    if (streams >= MAX_STREAMS) return;
    if (!entry.es && !entry.done && entry.listeners.size) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = undefined;
      open(entry);
    }
  }
}

function open(entry) {
  const token = entry.token ?? session.token;
  const url = `/v1/videos/${encodeURIComponent(entry.id)}/events${token ? `?access_token=${encodeURIComponent(token)}` : ''}`;
  const es = new EventSource(url);
  entry.es = es;
  streams++;
  const parse = (e) => {
    try {
      return JSON.parse(e.data);
    } catch {
      return undefined;
    }
  };
  es.addEventListener('status', (e) => {
    const data = parse(e);
    if (!data) return;
    if (FINAL.has(data.status)) finish(entry, data.status, data);
    else emit(entry, 'status', data);
  });
  for (const type of ['progress', 'playable']) {
    es.addEventListener(type, (e) => {
      const data = parse(e);
      if (data) emit(entry, type, data);
    });
  }
  for (const type of FINAL) {
    es.addEventListener(type, (e) => finish(entry, type, parse(e) ?? { id: entry.id, status: type }));
  }
  es.onerror = () => {
    // CONNECTING: the browser reconnects by itself. CLOSED: the server refused the stream
    // (expired token, deleted video…): poll instead, which tells which.
    if (es.readyState === EventSource.CLOSED && entry.es === es && !entry.done) {
      es.close();
      entry.es = undefined;
      streams--;
      schedulePoll(entry, 0);
    }
  };
}

function schedulePoll(entry, delay = POLL_MS) {
  if (entry.timer) clearTimeout(entry.timer);
  entry.timer = setTimeout(() => poll(entry), delay);
}

async function poll(entry) {
  entry.timer = undefined;
  if (entry.done || !entry.listeners.size) return;
  try {
    const v = await api(`/v1/videos/${encodeURIComponent(entry.id)}`, { token: entry.token });
    if (entry.done) return;
    if (FINAL.has(v.status)) return finish(entry, v.status, v);
    emit(entry, v.playable ? 'playable' : 'status', v);
  } catch (err) {
    if (err?.status === 404) return finish(entry, 'gone', { id: entry.id });
    if (err?.status === 401) return;
  }
  if (!entry.done && !entry.es) {
    if (streams < MAX_STREAMS) open(entry);
    else schedulePoll(entry);
  }
}

/**
 * Follows a video until it is ready or failed; `listener(type, data)` gets `status` and
 * `progress` updates, `playable` (possibly more than once when polled), then one `ready`, `failed` or `gone`. Returns a function that stops
 * listening (the stream closes when nobody listens). `token`: instead of the session's (`''`: none).
 * @param {string} id
 * @param {Listener} listener
 * @param {{ token?: string }} [options]
 */
export function follow(id, listener, { token } = {}) {
  let entry = entries.get(id);
  if (!entry) {
    entry = { id, token, listeners: new Set() };
    entries.set(id, entry);
    entry.listeners.add(listener);
    if (streams < MAX_STREAMS) open(entry);
    else schedulePoll(entry, 0);
  } else {
    entry.listeners.add(listener);
  }
  const e = entry;
  return () => {
    e.listeners.delete(listener);
    if (!e.listeners.size && !e.done) {
      stop(e);
      entries.delete(e.id);
    }
  };
}

/** Stops every stream (sign out). */
export function stopAll() {
  for (const entry of entries.values()) {
    entry.done = true;
    stop(entry);
  }
  entries.clear();
}

/** For tests and debugging: how many streams are open. */
export function openStreams() {
  return streams;
}
