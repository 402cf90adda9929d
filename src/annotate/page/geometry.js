// picpac annotate page: geometry on normalised coordinates (0..1 of the image): hit tests,
// bounds, moves.

import { scaleOf } from './render.js';
import { shapeCopy } from './saves.js';
import { S, uid } from './state.js';

// ---------------------------------------------------------------- geometry helpers

export function clamp01(v) {
  return Math.min(1, Math.max(0, v));
}

export function normRect(a, b) {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) };
}

export function toNorm(cell, event) {
  const r = cell.svg.getBoundingClientRect();
  return { x: clamp01((event.clientX - r.left) / r.width), y: clamp01((event.clientY - r.top) / r.height) };
}

/** Distance in screen pixels between two normalised points of a cell. */
export function screenDist(cell, a, b) {
  const s = scaleOf(cell);
  return Math.hypot((a.x - b.x) * cell.image.width * s, (a.y - b.y) * cell.image.height * s);
}

export function contains(shape, p, cell) {
  const g = shape.geometry;
  if (shape.type === 'rect') return p.x >= g.x && p.x <= g.x + g.width && p.y >= g.y && p.y <= g.y + g.height;
  if (shape.type === 'point') return screenDist(cell, p, g) <= 8;
  let inside = false;
  const pts = g.points;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    if (pts[i].y > p.y !== pts[j].y > p.y && p.x < ((pts[j].x - pts[i].x) * (p.y - pts[i].y)) / (pts[j].y - pts[i].y) + pts[i].x) inside = !inside;
  }
  return inside;
}

export function area(shape) {
  if (shape.type === 'point') return 0;
  if (shape.type === 'rect') return shape.geometry.width * shape.geometry.height;
  const b = bounds(shape);
  return b.width * b.height;
}

export function bounds(shape) {
  const g = shape.geometry;
  if (shape.type === 'rect') return { ...g };
  if (shape.type === 'point') return { x: g.x, y: g.y, width: 0, height: 0 };
  const xs = g.points.map((p) => p.x);
  const ys = g.points.map((p) => p.y);
  return { x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
}

/** The smallest shape under p (Annotorious: the smallest one wins). */
export function shapeAt(cell, p, types) {
  let best = null;
  for (const s of cell.image.shapes) {
    if (types && !types.includes(s.type)) continue;
    if (contains(s, p, cell) && (!best || area(s) < area(best))) best = s;
  }
  return best;
}

export function translate(shape, dx, dy) {
  const s = shapeCopy(shape);
  const b = bounds(shape);
  // Keep the whole shape inside the image.
  dx = Math.min(Math.max(dx, -b.x), 1 - b.x - b.width);
  dy = Math.min(Math.max(dy, -b.y), 1 - b.y - b.height);
  if (s.type === 'polygon') s.geometry.points = s.geometry.points.map((p) => ({ x: p.x + dx, y: p.y + dy }));
  else {
    s.geometry.x += dx;
    s.geometry.y += dy;
  }
  return s;
}

export function newShape(type, geometry) {
  const shape = { id: uid(), type, geometry };
  const name = S.config.classes[S.classIndex];
  if (name !== undefined) shape.className = name;
  return shape;
}
