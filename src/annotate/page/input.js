// picpac annotate page: mouse and keyboard — drawing (box, polygon, point), selection,
// move/resize, classes, delete, undo/redo, zoom/pan, batch navigation keys.

import { nextBatch, prevBatch } from './app.js';
import { contains, newShape, normRect, screenDist, shapeAt, toNorm, translate } from './geometry.js';
import { applyZoom, renderCell, scaleOf, setHovered } from './render.js';
import { change, enqueue, shapeCopy, undo } from './saves.js';
import { $, CLOSE_PX, MIN_BOX_PX, PALETTE, S, showMessage } from './state.js';

// ---------------------------------------------------------------- pointer input

export function attachPointer(cell) {
  const svg = cell.svg;
  svg.addEventListener('contextmenu', (e) => e.preventDefault());
  svg.addEventListener('pointerdown', (e) => onDown(cell, e));
  svg.addEventListener('pointermove', (e) => onMove(cell, e));
  svg.addEventListener('pointerup', (e) => onUp(cell, e));
  svg.addEventListener('pointerleave', () => {
    cell.guide = null;
    renderCell(cell);
  });
  cell.viewport.addEventListener('wheel', (e) => {
    e.preventDefault();
    zoomAt(cell, e.deltaY < 0 ? 1.25 : 0.8, e.clientX, e.clientY);
  }, { passive: false });
}

export function onDown(cell, e) {
  setHovered(cell);
  const p = toNorm(cell, e);
  if (e.button === 1 || e.button === 2 || (e.button === 0 && S.spaceDown)) {
    S.drag = { kind: 'pan', cell, x: e.clientX, y: e.clientY, tx: cell.tx, ty: cell.ty };
    cell.svg.setPointerCapture(e.pointerId);
    e.preventDefault();
    return;
  }
  if (e.button !== 0) return;
  e.preventDefault();
  if (S.tool === 'polygon') return polygonClick(cell, p);
  const sel = S.selected && S.selected.cell === cell ? cell.image.shapes.find((s) => s.id === S.selected.id) : null;
  const handle = e.target.dataset && e.target.dataset.handle;
  if (sel && handle && sel.type === 'rect') {
    S.drag = { kind: 'resize', cell, handle, original: shapeCopy(sel), start: p, now: p, moved: false };
  } else if (sel && !e.shiftKey && contains(sel, p, cell)) {
    S.drag = { kind: 'move', cell, original: shapeCopy(sel), start: p, now: p, moved: false };
  } else {
    S.drag = { kind: 'draw', cell, start: p, now: p, moved: false };
  }
  cell.svg.setPointerCapture(e.pointerId);
}

export function onMove(cell, e) {
  const p = toNorm(cell, e);
  cell.guide = p;
  const d = S.drag;
  if (d && d.kind === 'pan') {
    cell.tx = d.tx + (e.clientX - d.x);
    cell.ty = d.ty + (e.clientY - d.y);
    applyZoom(cell);
    return;
  }
  if (d && d.cell === cell) {
    d.now = p;
    if (screenDist(cell, d.start, p) >= 2) d.moved = true;
    if (d.kind === 'move' && d.moved) replaceLocal(cell, translate(d.original, p.x - d.start.x, p.y - d.start.y));
    if (d.kind === 'resize' && d.moved) replaceLocal(cell, resized(d.original, d.handle, p));
  }
  if (S.polygon && S.polygon.cell === cell) {
    S.polygon.cursor = p;
    S.polygon.nearFirst = S.polygon.points.length >= 3 && screenDist(cell, p, S.polygon.points[0]) <= CLOSE_PX;
  }
  renderCell(cell);
}

export function onUp(cell, e) {
  const d = S.drag;
  S.drag = null;
  if (!d || d.cell !== cell) return;
  if (cell.svg.hasPointerCapture(e.pointerId)) cell.svg.releasePointerCapture(e.pointerId);
  const p = toNorm(cell, e);
  d.now = p;
  if (d.kind === 'pan') return;
  if (d.kind === 'move' || d.kind === 'resize') {
    const current = cell.image.shapes.find((s) => s.id === d.original.id);
    if (d.moved && current && JSON.stringify(current.geometry) !== JSON.stringify(d.original.geometry)) change(cell, d.original, shapeCopy(current));
    else renderCell(cell);
    return;
  }
  const r = normRect(d.start, p);
  const s = scaleOf(cell);
  const big = r.width * cell.image.width * s >= MIN_BOX_PX && r.height * cell.image.height * s >= MIN_BOX_PX;
  if (S.tool === 'rect' && big) {
    const shape = newShape('rect', r);
    change(cell, null, shape);
    select(cell, shape.id);
    return;
  }
  if (S.tool === 'point' && screenDist(cell, d.start, p) < MIN_BOX_PX) {
    const hit = shapeAt(cell, p, ['point']);
    if (hit) return select(cell, hit.id);
    const shape = newShape('point', { x: p.x, y: p.y });
    change(cell, null, shape);
    select(cell, shape.id);
    return;
  }
  // A click: select the smallest shape under it, or deselect.
  const hit = shapeAt(cell, p);
  select(hit ? cell : null, hit ? hit.id : null);
}

export function replaceLocal(cell, shape) {
  const at = cell.image.shapes.findIndex((s) => s.id === shape.id);
  if (at >= 0) cell.image.shapes[at] = shape;
}

export function resized(original, handle, p) {
  const g = original.geometry;
  let x0 = g.x, y0 = g.y, x1 = g.x + g.width, y1 = g.y + g.height;
  if (handle.includes('w')) x0 = p.x;
  if (handle.includes('e')) x1 = p.x;
  if (handle.includes('n')) y0 = p.y;
  if (handle.includes('s')) y1 = p.y;
  const s = shapeCopy(original);
  s.geometry = normRect({ x: x0, y: y0 }, { x: x1, y: y1 });
  if (s.geometry.width <= 0) s.geometry.width = 1e-4;
  if (s.geometry.height <= 0) s.geometry.height = 1e-4;
  return s;
}

export function polygonClick(cell, p) {
  if (!S.polygon || S.polygon.cell !== cell) {
    if (S.polygon) cancelPolygon();
    S.polygon = { cell, points: [p], cursor: p, nearFirst: false };
    renderCell(cell);
    return;
  }
  const pts = S.polygon.points;
  if (pts.length >= 3 && screenDist(cell, p, pts[0]) <= CLOSE_PX) return closePolygon();
  if (screenDist(cell, p, pts[pts.length - 1]) < 2) return; // double click on the same spot
  pts.push(p);
  renderCell(cell);
}

export function closePolygon() {
  const poly = S.polygon;
  if (!poly) return;
  S.polygon = null;
  if (poly.points.length < 3) {
    renderCell(poly.cell);
    return showMessage('a polygon needs at least 3 vertices', 'info');
  }
  const shape = newShape('polygon', { points: poly.points });
  change(poly.cell, null, shape);
  select(poly.cell, shape.id);
}

export function cancelPolygon() {
  const poly = S.polygon;
  S.polygon = null;
  if (poly) renderCell(poly.cell);
}

export function select(cell, id) {
  const previous = S.selected && S.selected.cell;
  S.selected = cell && id ? { cell, id } : null;
  if (previous && previous !== cell) renderCell(previous);
  if (cell) renderCell(cell);
}

export function zoomAt(cell, factor, clientX, clientY) {
  const zoom = Math.min(20, Math.max(1, cell.zoom * factor));
  const vp = cell.viewport.getBoundingClientRect();
  const st = cell.stage.getBoundingClientRect();
  // Keep the image point under the cursor where it is.
  const cx = clientX === undefined ? vp.left + vp.width / 2 : clientX;
  const cy = clientY === undefined ? vp.top + vp.height / 2 : clientY;
  const ux = (cx - st.left) / cell.zoom;
  const uy = (cy - st.top) / cell.zoom;
  cell.tx += (cell.zoom - zoom) * ux;
  cell.ty += (cell.zoom - zoom) * uy;
  cell.zoom = zoom;
  if (zoom === 1) cell.tx = cell.ty = 0;
  applyZoom(cell);
}

// ---------------------------------------------------------------- keyboard

export function selectedShape() {
  if (!S.selected) return null;
  const shape = S.selected.cell.image.shapes.find((s) => s.id === S.selected.id);
  return shape ? { cell: S.selected.cell, shape } : null;
}

export function setClass(k) {
  const name = S.config.classes[k];
  if (name === undefined) return showMessage(S.config.classes.length === 0 ? 'no classes: start the server with --classes a,b,…' : `no class ${k + 1}`, 'info');
  S.classIndex = k;
  renderClasses();
  const sel = selectedShape();
  if (sel && sel.shape.className !== name) {
    const after = shapeCopy(sel.shape);
    after.className = name;
    change(sel.cell, shapeCopy(sel.shape), after);
  }
}

export function nudge(dx, dy, resize) {
  const sel = selectedShape();
  if (!sel) return;
  const { cell, shape } = sel;
  const ux = dx / cell.image.width;
  const uy = dy / cell.image.height;
  let after;
  if (resize && shape.type === 'rect') {
    after = shapeCopy(shape);
    after.geometry.width = Math.min(1 - after.geometry.x, Math.max(1 / cell.image.width, after.geometry.width + ux));
    after.geometry.height = Math.min(1 - after.geometry.y, Math.max(1 / cell.image.height, after.geometry.height + uy));
  } else after = translate(shape, ux, uy);
  change(cell, shapeCopy(shape), after);
}

export function setVerified(cell, verified) {
  cell.image.verified = verified;
  enqueue({ imageId: cell.image.id, action: 'verify', verified });
  renderCell(cell);
}

export function onKey(e) {
  if (e.target && (e.target.tagName === 'INPUT' || e.target.tagName === 'SELECT' || e.target.tagName === 'TEXTAREA')) return;
  const key = e.key;
  const ctrl = e.ctrlKey || e.metaKey;
  if (ctrl && (key === 'z' || key === 'Z')) {
    e.preventDefault();
    return undo(e.shiftKey);
  }
  if (ctrl && (key === 'y' || key === 'Y')) {
    e.preventDefault();
    return undo(true);
  }
  if (ctrl || (e.altKey && !key.startsWith('Arrow'))) return;
  if (/^[1-9]$/.test(key)) return setClass(Number(key) - 1);
  const cell = (S.selected && S.selected.cell) || S.hovered || S.cells[0];
  switch (key) {
    case 'Delete':
    case 'Backspace': {
      e.preventDefault();
      const sel = selectedShape();
      if (sel) change(sel.cell, shapeCopy(sel.shape), null);
      return;
    }
    case 'Escape':
      if (S.polygon) cancelPolygon();
      else select(null, null);
      return;
    case 'Enter':
      if (S.polygon) closePolygon();
      return;
    case 'ArrowLeft': case 'ArrowRight': case 'ArrowUp': case 'ArrowDown': {
      if (!S.selected) return;
      e.preventDefault();
      const step = e.shiftKey ? 10 : 1;
      const dx = key === 'ArrowLeft' ? -step : key === 'ArrowRight' ? step : 0;
      const dy = key === 'ArrowUp' ? -step : key === 'ArrowDown' ? step : 0;
      return nudge(dx, dy, e.altKey);
    }
    case 'b': case 'B': return setTool('rect');
    case 'g': case 'G': return setTool('polygon');
    case 'p': case 'P': return setTool('point');
    case 'd': case 'D': case 'PageDown': e.preventDefault(); return nextBatch();
    case 'a': case 'A': case 'PageUp': e.preventDefault(); return prevBatch();
    case 'v': case 'V': if (cell) setVerified(cell, !cell.image.verified); return;
    case 'h': case 'H': S.hidden = !S.hidden; document.body.classList.toggle('hide-shapes', S.hidden); return;
    case '+': case '=': if (cell) zoomAt(cell, 1.25); return;
    case '-': case '_': if (cell) zoomAt(cell, 0.8); return;
    case '0': if (cell) { cell.zoom = 1; cell.tx = cell.ty = 0; applyZoom(cell); } return;
    case ' ': S.spaceDown = true; e.preventDefault(); return;
    case 'Tab': {
      if (!cell || cell.image.shapes.length === 0) return;
      e.preventDefault();
      const shapes = cell.image.shapes;
      const at = S.selected && S.selected.cell === cell ? shapes.findIndex((s) => s.id === S.selected.id) : -1;
      return select(cell, shapes[(at + (e.shiftKey ? shapes.length - 1 : 1)) % shapes.length].id);
    }
    case '?': $('#help').hidden = !$('#help').hidden; return;
  }
}

export function setTool(tool) {
  if (S.polygon && tool !== 'polygon') cancelPolygon();
  S.tool = tool;
  for (const b of document.querySelectorAll('#tools button')) b.setAttribute('aria-pressed', String(b.dataset.tool === tool));
}

export function renderClasses() {
  const list = $('#classes');
  list.textContent = '';
  if (S.config.classes.length === 0) {
    const li = document.createElement('li');
    li.className = 'none';
    li.textContent = 'no classes';
    list.appendChild(li);
    return;
  }
  S.config.classes.forEach((name, k) => {
    const li = document.createElement('li');
    li.className = k === S.classIndex ? 'active' : '';
    li.dataset.classIndex = String(k);
    li.title = `class ${k + 1}: ${name} (key ${k + 1})`;
    li.innerHTML = `<kbd></kbd><span class="swatch"></span><span class="cname"></span>`;
    li.querySelector('kbd').textContent = k < 9 ? String(k + 1) : '';
    li.querySelector('.swatch').style.background = PALETTE[k % PALETTE.length];
    li.querySelector('.cname').textContent = name;
    li.addEventListener('click', () => setClass(k));
    list.appendChild(li);
  });
}
