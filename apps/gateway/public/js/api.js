// @ts-check
// The API client: the bearer token (kept in localStorage), fetch with it, errors as ApiError.

const TOKEN_KEY = 'reel.token';

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The JWT's payload, decoded (not verified: the server does that), or undefined if it is not a JWT. */
export function decodeToken(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')), (c) => c.charCodeAt(0)));
    const payload = JSON.parse(json);
    return payload && typeof payload === 'object' ? payload : undefined;
  } catch {
    return undefined;
  }
}

/** Why a token cannot be used, before asking the server; undefined if it looks fine. */
export function tokenProblem(token) {
  if (!token) return 'Paste a token first.';
  const payload = decodeToken(token);
  if (!payload) return 'This is not a JWT (three base64url parts separated by dots).';
  if (typeof payload.sub !== 'string' || !payload.sub) return 'This token has no subject (sub).';
  if (typeof payload.exp === 'number' && payload.exp * 1000 <= Date.now()) return `This token expired on ${new Date(payload.exp * 1000).toLocaleString()}.`;
  return undefined;
}

export const session = {
  get token() {
    try {
      return localStorage.getItem(TOKEN_KEY) ?? '';
    } catch {
      return '';
    }
  },
  set token(value) {
    try {
      if (value) localStorage.setItem(TOKEN_KEY, value);
      else localStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage disabled: the session lasts as long as the page
    }
    window.dispatchEvent(new CustomEvent('reel:session'));
  },
  get user() {
    return decodeToken(this.token)?.sub ?? '';
  },
};

/**
 * fetch() against the API with the bearer token; resolves to the parsed JSON (or null for
 * 204), rejects with an ApiError carrying the API's `{ error: { code, message } }`.
 * A 401 signs the user out (the token is no longer good). `token`: instead of the session's (`''`: none).
 * @param {string} path
 * @param {{ method?: string, body?: unknown, signal?: AbortSignal, token?: string }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, { method = 'GET', body, signal, token = session.token } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => undefined);
  if (!res.ok) {
    const error = new ApiError(res.status, data?.error?.code ?? 'http_error', data?.error?.message ?? `${res.status} ${res.statusText}`);
    if (res.status === 401 && token && token === session.token) window.dispatchEvent(new CustomEvent('reel:unauthorized', { detail: error }));
    throw error;
  }
  return data;
}

/** Loads a classic script (the UMD builds of hls.js and tus-js-client) once. */
const scripts = new Map();
export function loadScript(src) {
  let p = scripts.get(src);
  if (!p) {
    p = new Promise((resolve, reject) => {
      const el = document.createElement('script');
      el.src = src;
      el.async = true;
      el.onload = () => resolve();
      el.onerror = () => {
        scripts.delete(src);
        reject(new Error(`could not load ${src}`));
      };
      document.head.append(el);
    });
    scripts.set(src, p);
  }
  return p;
}

/** Screen-reader announcement through the page's polite live region. */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // a change of text is what gets announced: set it on the next frame
  requestAnimationFrame(() => {
    region.textContent = text;
  });
}
