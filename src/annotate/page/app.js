// picpac annotate: the page (entry module). Vanilla JS modules, no build step. A grid of
// ROWS×COLS images, each with an SVG overlay whose viewBox is the image's natural pixel size;
// shapes are kept normalised (0..1) as the server stores them. This module: batches
// (next/previous), the review pages, and start-up.

import { cancelPolygon, onKey, renderClasses, setTool } from './input.js';
import { buildGrid, layout } from './render.js';
import { renderCounts, renderSaveState } from './saves.js';
import { $, S, api, showMessage, uid } from './state.js';

// ---------------------------------------------------------------- batches

async function loadBatch(request) {
  try {
    const reply = await request();
    renderCounts(reply.status);
    if (!reply.batch) return showMessage('no earlier batch', 'info');
    S.batch = reply.batch;
    sessionStorage.setItem('picpac-batch', String(reply.batch.id));
    document.body.dataset.batchId = String(reply.batch.id);
    buildGrid(reply.batch.images, S.config.rows, S.config.cols);
  } catch (error) {
    showMessage('could not load a batch: ' + error.message);
  }
}

export function nextBatch() {
  if (S.mode !== 'grid') return;
  if (S.polygon) cancelPolygon();
  const body = { session: S.session, user: S.user };
  if (S.batch) body.from = S.batch.id;
  return loadBatch(() => api('POST', '/api/batch/next', body));
}

export function prevBatch() {
  if (S.mode !== 'grid') return;
  const body = { session: S.session };
  if (S.batch) body.before = S.batch.id;
  return loadBatch(() => api('POST', '/api/batch/prev', body));
}

// ---------------------------------------------------------------- review pages

let reviewOffset = 0;
async function loadReviewList(append) {
  const filter = $('#review-filter').value;
  if (!append) {
    reviewOffset = 0;
    $('#review-rows').textContent = '';
  }
  const reply = await api('GET', `/api/review?filter=${encodeURIComponent(filter)}&offset=${reviewOffset}&limit=100`);
  $('#review-total').textContent = `${reply.total} image${reply.total === 1 ? '' : 's'}`;
  for (const item of reply.items) {
    const tr = document.createElement('tr');
    const cells = [item.id, item.name, `${item.width}×${item.height}`, item.shapeCount, item.verified ? '✔' : '', item.updatedAt ? `${item.updatedBy} ${item.updatedAt.replace('T', ' ').slice(0, 19)}` : ''];
    cells.forEach((text, i) => {
      const td = document.createElement('td');
      if (i === 1) {
        const a = document.createElement('a');
        a.href = `/annotate/review/${item.id}`;
        a.textContent = String(text);
        td.appendChild(a);
      } else td.textContent = String(text);
      tr.appendChild(td);
    });
    $('#review-rows').appendChild(tr);
  }
  reviewOffset += reply.items.length;
  $('#review-more').hidden = reviewOffset >= reply.total;
}

async function loadReviewImage(id) {
  try {
    const reply = await api('GET', `/api/images/${id}`);
    document.title = `review #${id} · picpac annotate`;
    buildGrid([reply.image], 1, 1);
    const rows = $('#log-rows');
    rows.textContent = '';
    for (const entry of reply.log.slice().reverse()) {
      const li = document.createElement('li');
      const what = entry.action === 'verify' ? `verified=${entry.verified}` : `${entry.action} ${entry.shape ? entry.shape.type : ''} ${entry.shapeId || (entry.shape && entry.shape.id) || ''}`;
      li.textContent = `${entry.time.replace('T', ' ').slice(0, 19)} ${entry.user}${entry.ip ? ' (' + entry.ip + ')' : ''}: ${what}`;
      rows.appendChild(li);
    }
    $('#review-log').hidden = false;
  } catch (error) {
    showMessage(`image ${id}: ${error.message}`);
  }
}

// ---------------------------------------------------------------- start

async function start() {
  const params = new URLSearchParams(location.search);
  S.user = params.get('user') || localStorage.getItem('picpac-user') || 'anonymous';
  localStorage.setItem('picpac-user', S.user);
  S.session = sessionStorage.getItem('picpac-session') || uid().replace(/[^A-Za-z0-9_-]/g, '');
  sessionStorage.setItem('picpac-session', S.session);
  $('#user').value = S.user;
  $('#user').addEventListener('change', (e) => {
    const v = e.target.value.trim().slice(0, 64);
    if (v) {
      S.user = v;
      localStorage.setItem('picpac-user', v);
    }
  });
  S.config = await api('GET', '/api/config');
  S.tool = S.config.shape;
  setTool(S.tool);
  renderClasses();
  renderSaveState();
  for (const b of document.querySelectorAll('#tools button')) b.addEventListener('click', () => setTool(b.dataset.tool));
  $('#next').addEventListener('click', () => nextBatch());
  $('#prev').addEventListener('click', () => prevBatch());
  $('#help-toggle').addEventListener('click', () => ($('#help').hidden = !$('#help').hidden));
  document.addEventListener('keydown', onKey);
  // Buttons and checkboxes give the focus back, so the next key press drives the annotator.
  document.addEventListener('click', (e) => {
    const t = e.target;
    if (t && (t.tagName === 'BUTTON' || (t.tagName === 'INPUT' && t.type === 'checkbox'))) t.blur();
  });
  document.addEventListener('keyup', (e) => {
    if (e.key === ' ') S.spaceDown = false;
  });
  window.addEventListener('resize', () => layout());
  window.addEventListener('beforeunload', (e) => {
    if (S.queue.length > 0) {
      e.preventDefault();
      e.returnValue = 'changes are still being saved';
    }
  });
  // Keep the lease alive while the page is open.
  setInterval(() => {
    if (S.mode === 'grid' && S.batch && !S.batch.finished) api('POST', '/api/batch/renew', { session: S.session, batchId: S.batch.id }).catch(() => {});
  }, Math.max(5000, Math.min(60000, S.config.leaseMs / 3)));

  const path = location.pathname;
  const review = /^\/annotate\/review\/(\d+)$/.exec(path);
  if (review) {
    S.mode = 'image';
    $('#next').hidden = $('#prev').hidden = true;
    await loadReviewImage(Number(review[1]));
    api('GET', '/api/status').then(renderCounts, () => {});
  } else if (path === '/annotate/review/') {
    S.mode = 'list';
    $('#grid').hidden = true;
    $('#tools').hidden = true;
    $('#next').hidden = $('#prev').hidden = true;
    $('#review-list').hidden = false;
    $('#review-filter').addEventListener('change', () => loadReviewList(false));
    $('#review-more').addEventListener('click', () => loadReviewList(true));
    await loadReviewList(false);
    api('GET', '/api/status').then(renderCounts, () => {});
  } else {
    // Loading the page hands out the next batch (Owl); a reload finishes the batch on screen.
    const previous = Number(sessionStorage.getItem('picpac-batch'));
    if (previous > 0) S.batch = { id: previous };
    await nextBatch();
  }
  document.body.dataset.ready = 'true';
}

start().catch((error) => showMessage('failed to start: ' + error.message));
window.picpacAnnotate = S; // for debugging and tests
