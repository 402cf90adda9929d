// picpac annotate page: shared state, constants, the JSON API client and the message toast.

export const SVG_NS = 'http://www.w3.org/2000/svg';
export const PALETTE = ['#4fc3f7', '#ff8a65', '#aed581', '#ba68c8', '#ffd54f', '#4db6ac', '#f06292', '#9575cd', '#e0e0e0'];
export const MIN_BOX_PX = 4; // Owl: a box smaller than 4 px is discarded
export const CLOSE_PX = 7; // polygon closes when clicking within this many screen px of the first vertex

export const $ = (sel) => document.querySelector(sel);
export const S = {
  config: null,
  mode: 'grid', // 'grid' | 'list' | 'image'
  session: '',
  user: '',
  batch: null,
  cells: [],
  tool: 'rect',
  classIndex: 0,
  selected: null, // { cell, id }
  hovered: null, // cell
  drag: null,
  polygon: null, // { cell, points: [{x,y}] }
  undo: [],
  redo: [],
  queue: [], // pending save ops
  saving: false,
  retryTimer: null,
  failures: 0,
  lastError: '',
  hidden: false,
  spaceDown: false,
  status: null,
};

export function uid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return 'id-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 10);
}

export async function api(method, url, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (error) {
    const e = new Error('network error: ' + error.message);
    e.retry = true;
    throw e;
  }
  let json = null;
  try {
    json = await res.json();
  } catch {
    /* non-JSON reply */
  }
  if (!res.ok) {
    const e = new Error((json && json.error) || `HTTP ${res.status}`);
    e.status = res.status;
    e.retry = res.status >= 500 || res.status === 408 || res.status === 429;
    throw e;
  }
  return json;
}

export function showMessage(text, kind) {
  const el = $('#message');
  el.textContent = text;
  el.className = 'message' + (kind ? ' ' + kind : '');
  el.hidden = false;
  clearTimeout(showMessage.timer);
  showMessage.timer = setTimeout(() => (el.hidden = true), kind === 'info' ? 2500 : 6000);
}
