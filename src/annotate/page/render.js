// picpac annotate page: the grid. Each cell has an <img> and an SVG overlay in the image's
// natural pixel units, fitted to the cell, zoomed and panned with a CSS transform; shapes,
// handles, the work in progress and the crosshair guides are redrawn per cell.

import { normRect } from './geometry.js';
import { attachPointer, setVerified } from './input.js';
import { isPending } from './saves.js';
import { $, PALETTE, S, SVG_NS } from './state.js';

// ---------------------------------------------------------------- grid layout and rendering

export function classColor(name) {
  const k = S.config.classes.indexOf(name);
  return PALETTE[(k < 0 ? S.config.classes.length : k) % PALETTE.length];
}

export function buildGrid(images, rows, cols) {
  const grid = $('#grid');
  grid.textContent = '';
  S.cells = [];
  S.selected = null;
  S.polygon = null;
  S.undo = [];
  S.redo = [];
  grid.style.gridTemplateColumns = `repeat(${cols}, minmax(0, 1fr))`;
  grid.style.gridTemplateRows = `repeat(${rows}, minmax(0, 1fr))`;
  if (images.length === 0) {
    const empty = document.createElement('div');
    empty.className = 'empty';
    empty.textContent = 'Nothing left to annotate. 🎉  (Previous batches: A; review: /annotate/review/)';
    grid.appendChild(empty);
    return;
  }
  for (const image of images) {
    const el = document.createElement('section');
    el.className = 'cell';
    el.dataset.imageId = String(image.id);
    const head = document.createElement('header');
    head.innerHTML = `<span class="id"></span><span class="name"></span><span class="count"></span><label><input type="checkbox" class="verified"> verified</label>`;
    head.querySelector('.id').textContent = '#' + image.id;
    head.querySelector('.name').textContent = image.name;
    head.querySelector('.name').title = `${image.name} (${image.width}×${image.height})`;
    const viewport = document.createElement('div');
    viewport.className = 'viewport';
    const stage = document.createElement('div');
    stage.className = 'stage';
    const img = document.createElement('img');
    img.alt = image.name;
    img.draggable = false;
    img.src = `/api/image/${image.id}`;
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', `0 0 ${image.width} ${image.height}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    const badge = document.createElement('span');
    badge.className = 'zoom-badge';
    badge.hidden = true;
    stage.append(img, svg);
    viewport.append(stage, badge);
    el.append(head, viewport);
    grid.appendChild(el);
    const cell = { image, el, viewport, stage, svg, img, badge, zoom: 1, tx: 0, ty: 0, fit: 1, errors: new Set(), guide: null };
    head.querySelector('.verified').addEventListener('change', (e) => setVerified(cell, e.target.checked));
    attachPointer(cell);
    el.addEventListener('pointerenter', () => setHovered(cell));
    S.cells.push(cell);
  }
  layout();
  for (const cell of S.cells) renderCell(cell);
}

export function setHovered(cell) {
  if (S.hovered) S.hovered.el.classList.remove('hovered');
  S.hovered = cell;
  if (cell) cell.el.classList.add('hovered');
}

export function layout() {
  for (const cell of S.cells) {
    const box = cell.viewport.getBoundingClientRect();
    const { width, height } = cell.image;
    cell.fit = Math.max(0.01, Math.min(box.width / width, box.height / height));
    cell.stage.style.width = `${width * cell.fit}px`;
    cell.stage.style.height = `${height * cell.fit}px`;
    applyZoom(cell);
  }
}

export function applyZoom(cell) {
  cell.stage.style.transform = `translate(${cell.tx}px, ${cell.ty}px) scale(${cell.zoom})`;
  cell.badge.hidden = cell.zoom === 1;
  cell.badge.textContent = `${Math.round(cell.zoom * 100)}%`;
  renderCell(cell);
}

/** Screen pixels per image pixel. */
export function scaleOf(cell) {
  return cell.fit * cell.zoom;
}

export function el(name, attrs, parent) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

export function renderCell(cell) {
  const { svg, image } = cell;
  const W = image.width;
  const H = image.height;
  const k = 1 / scaleOf(cell); // image pixels per screen pixel
  svg.textContent = '';
  const shapesGroup = el('g', {}, svg);
  for (const shape of image.shapes) {
    const color = classColor(shape.className);
    const selected = S.selected && S.selected.cell === cell && S.selected.id === shape.id;
    const cls = ['shape', shape.type, selected ? 'selected' : '', isPending(image.id, shape.id) ? 'pending' : '', cell.errors.has(shape.id) ? 'error' : ''].join(' ');
    let node;
    const g = shape.geometry;
    if (shape.type === 'rect') node = el('rect', { x: g.x * W, y: g.y * H, width: g.width * W, height: g.height * H }, shapesGroup);
    else if (shape.type === 'polygon') node = el('polygon', { points: g.points.map((p) => `${p.x * W},${p.y * H}`).join(' ') }, shapesGroup);
    // Imported shapes the page cannot draw itself are shown as they are (ellipse, multi-part);
    // a COCO mask (rle) is not drawn here.
    else if (shape.type === 'ellipse') node = el('ellipse', { cx: (g.x + g.width / 2) * W, cy: (g.y + g.height / 2) * H, rx: (g.width * W) / 2, ry: (g.height * H) / 2 }, shapesGroup);
    else if (shape.type === 'polygons') node = el('path', { d: g.points.map((ring) => `M${ring.map((p) => `${p.x * W},${p.y * H}`).join('L')}Z`).join(' ') }, shapesGroup);
    else if (shape.type === 'rle') continue;
    else node = el('circle', { cx: g.x * W, cy: g.y * H, r: 5 * k }, shapesGroup);
    node.setAttribute('class', cls);
    node.setAttribute('color', color);
    node.dataset.shapeId = shape.id;
    node.dataset.type = shape.type;
    if (shape.className) node.dataset.className = shape.className;
    if (shape.className) {
      const first = shape.type === 'polygons' ? g.points[0][0] : shape.type === 'polygon' ? g.points[0] : g;
      const anchor = shape.type === 'point' ? { x: g.x * W + 7 * k, y: g.y * H - 4 * k } : { x: first.x * W, y: first.y * H };
      const t = el('text', { x: anchor.x + 3 * k, y: anchor.y - 4 * k, 'font-size': 13 * k, class: 'label' }, shapesGroup);
      t.textContent = shape.className;
    }
    if (selected && shape.type === 'rect') {
      for (const [name, hx, hy] of [['nw', g.x, g.y], ['ne', g.x + g.width, g.y], ['sw', g.x, g.y + g.height], ['se', g.x + g.width, g.y + g.height]]) {
        el('rect', { class: `handle ${name}`, x: hx * W - 4 * k, y: hy * H - 4 * k, width: 8 * k, height: 8 * k, 'data-handle': name }, shapesGroup);
      }
    }
  }
  // Work in progress: the rubber box, the open polygon.
  const d = S.drag;
  if (d && d.cell === cell && d.kind === 'draw' && d.moved) {
    const r = normRect(d.start, d.now);
    el('rect', { class: 'rubber', x: r.x * W, y: r.y * H, width: r.width * W, height: r.height * H }, svg);
  }
  if (S.polygon && S.polygon.cell === cell) {
    const pts = S.polygon.points;
    const tail = S.polygon.cursor ? [...pts, S.polygon.cursor] : pts;
    el('polyline', { class: 'rubber', points: tail.map((p) => `${p.x * W},${p.y * H}`).join(' ') }, svg);
    pts.forEach((p, i) => el('circle', { class: 'vertex' + (i === 0 ? ' first' : '') + (i === 0 && S.polygon.nearFirst ? ' near' : ''), cx: p.x * W, cy: p.y * H, r: (i === 0 ? 5 : 3) * k }, svg));
  }
  // Crosshair guides (Owl): red lines through the cursor across the whole image.
  if (cell.guide && !(d && d.kind !== 'draw')) {
    el('line', { class: 'guide', x1: 0, x2: W, y1: cell.guide.y * H, y2: cell.guide.y * H }, svg);
    el('line', { class: 'guide', x1: cell.guide.x * W, x2: cell.guide.x * W, y1: 0, y2: H }, svg);
  }
  cell.el.classList.toggle('verified', image.verified);
  cell.el.querySelector('.verified').checked = image.verified;
  cell.el.querySelector('.count').textContent = `${image.shapes.length} shape${image.shapes.length === 1 ? '' : 's'}`;
}
