// picpac annotate page: the save queue — every change goes through it, is shown at once, drawn
// dashed until the server acknowledged it, retried with backoff on failure and never dropped —
// and undo/redo on top of it.

import { renderCell } from './render.js';
import { $, S, api, showMessage } from './state.js';

// ---------------------------------------------------------------- counters and save state

export function renderCounts(status) {
  if (!status) return;
  S.status = status;
  const mine = status.byAnnotator && status.byAnnotator[S.user];
  $('#counts').innerHTML =
    `Total: <b>${status.total}</b> · Done: <b>${status.done}</b> · Todo: <b>${status.todo}</b> · Verified: <b>${status.verified}</b>` +
    (mine ? ` · You: <b>${mine.shapesCreated}</b> shapes` : '');
}

export function renderSaveState() {
  const el = $('#save-state');
  if (S.queue.length === 0) {
    el.className = 'save-state saved';
    el.textContent = 'saved';
  } else if (S.failures > 0) {
    el.className = 'save-state failed';
    el.textContent = `save failed (${S.lastError}) — retrying, ${S.queue.length} pending`;
  } else {
    el.className = 'save-state saving';
    el.textContent = `saving ${S.queue.length}…`;
  }
  el.dataset.pending = String(S.queue.length);
}

// ---------------------------------------------------------------- the save queue

/** Queue a change; the cell shows it at once (dashed until acknowledged). */
export function enqueue(op) {
  S.queue.push(op);
  renderSaveState();
  pump();
}

export async function pump() {
  if (S.saving || S.queue.length === 0 || S.retryTimer) return;
  S.saving = true;
  const op = S.queue[0];
  try {
    const url = op.action === 'verify' ? '/api/verify' : '/api/save';
    const body = { user: S.user, session: S.session, imageId: op.imageId };
    if (op.action === 'verify') body.verified = op.verified;
    else {
      body.action = op.action;
      if (op.shape) body.shape = op.shape;
      if (op.shapeId) body.shapeId = op.shapeId;
    }
    const reply = await api('POST', url, body);
    S.queue.shift();
    S.failures = 0;
    renderCounts(reply.status);
    markSaved(op, true);
  } catch (error) {
    if (error.retry) {
      S.failures++;
      S.lastError = error.message;
      const delay = Math.min(15000, 500 * 2 ** Math.min(S.failures, 5));
      S.retryTimer = setTimeout(() => {
        S.retryTimer = null;
        pump();
      }, delay);
    } else {
      // The server refused it (validation): retrying cannot help. Show it; keep the shape marked.
      S.queue.shift();
      showMessage('not saved: ' + error.message);
      markSaved(op, false);
    }
  } finally {
    S.saving = false;
    renderSaveState();
    if (!S.retryTimer) pump();
  }
}

export function isPending(imageId, shapeId) {
  return S.queue.some((op) => op.imageId === imageId && ((op.shape && op.shape.id === shapeId) || op.shapeId === shapeId));
}

export function markSaved(op, ok) {
  const cell = S.cells.find((c) => c.image.id === op.imageId);
  if (!cell) return;
  if (!ok && op.shape) cell.errors.add(op.shape.id);
  if (ok && op.shape) cell.errors.delete(op.shape.id);
  renderCell(cell);
}

// ---------------------------------------------------------------- changes with undo

export function shapeCopy(shape) {
  return JSON.parse(JSON.stringify(shape));
}

/** Apply before → after on a cell (either may be null), queue the save, record undo. */
export function change(cell, before, after, options = {}) {
  const shapes = cell.image.shapes;
  if (after) {
    const at = shapes.findIndex((s) => s.id === after.id);
    if (at >= 0) shapes[at] = after;
    else shapes.push(after);
    enqueue({ imageId: cell.image.id, action: before ? 'update' : 'create', shape: shapeCopy(after) });
  } else if (before) {
    const at = shapes.findIndex((s) => s.id === before.id);
    if (at >= 0) shapes.splice(at, 1);
    enqueue({ imageId: cell.image.id, action: 'delete', shapeId: before.id });
    if (S.selected && S.selected.id === before.id) S.selected = null;
  }
  if (!options.fromHistory) {
    S.undo.push({ imageId: cell.image.id, before: before && shapeCopy(before), after: after && shapeCopy(after) });
    if (S.undo.length > 500) S.undo.shift();
    S.redo = [];
  }
  renderCell(cell);
}

export function undo(redo) {
  const from = redo ? S.redo : S.undo;
  const to = redo ? S.undo : S.redo;
  const entry = from.pop();
  if (!entry) return showMessage(redo ? 'nothing to redo' : 'nothing to undo', 'info');
  const cell = S.cells.find((c) => c.image.id === entry.imageId);
  if (!cell) return showMessage('that change is not on this page', 'info');
  const target = redo ? entry.after : entry.before; // the state to go back (or forward) to
  const id = (entry.after || entry.before).id;
  const current = cell.image.shapes.find((s) => s.id === id) || null;
  change(cell, current && shapeCopy(current), target && shapeCopy(target), { fromHistory: true });
  to.push(entry);
}
