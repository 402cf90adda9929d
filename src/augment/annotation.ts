// Annotation JSON (REFERENCE §1.3.3, Annotorious-derived) → typed shapes. Coordinates stay
// normalised (0..1 of width/height); rasterize.ts scales them to pixels. Unknown keys are
// ignored; a malformed document or shape throws AnnotationError naming the record and the
// shape index. v1 mode tolerates a missing `shapes` (empty annotation); strict mode requires it.
import { FormatError } from '../errors.ts';
import { rleBbox, rleRuns } from './pixels/coco-rle.ts';

export interface NormalizedPoint {
  x: number;
  y: number;
}

interface ShapeBase {
  /** Fill value: a number (v1: channel 0 only) or per-channel values (≤ 4). Absent → anno_color*. */
  label?: number | number[];
  /** Instance tag (kept for consumers; not used by v1 rendering). */
  tag?: number;
}

export interface RectShape extends ShapeBase { type: 'rect'; x: number; y: number; width: number; height: number }
/** Ellipse inscribed in its bounding box. */
export interface EllipseShape extends ShapeBase { type: 'ellipse'; x: number; y: number; width: number; height: number }
export interface PolygonShape extends ShapeBase { type: 'polygon'; points: NormalizedPoint[] }
/** Several rings, each filled on its own (HEAD semantics: their union, no holes). */
export interface PolygonsShape extends ShapeBase { type: 'polygons'; rings: NormalizedPoint[][] }
/** Circle of `point_radius` pixels (a single pixel when the radius is 0). */
export interface PointShape extends ShapeBase { type: 'point'; x: number; y: number }

/**
 * A COCO run-length mask made for an image of size [height, width] (stored as COCO writes it:
 * `counts` a run list or pycocotools' compressed string); `runs` is the decoded run list.
 */
export interface RleShape extends ShapeBase { type: 'rle'; size: [number, number]; counts: number[] | string; runs: number[] }

export type Shape = RectShape | EllipseShape | PolygonShape | PolygonsShape | PointShape | RleShape;

export interface Annotation {
  shapes: Shape[];
}

export interface ParseAnnotationOptions {
  /** Record ordinal, named in errors. */
  recordIndex?: number;
  /** 'v1' (default): `shapes` may be absent. 'strict': it must be an array. */
  mode?: 'v1' | 'strict';
}

/** Malformed annotation JSON. `byteOffset` is the character position in the text when known, else 0. */
export class AnnotationError extends FormatError {
  readonly shapeIndex?: number;
  constructor(problem: string, details: { recordIndex?: number; shapeIndex?: number; byteOffset?: number; expected?: string; actual?: string }) {
    const where = details.shapeIndex === undefined ? problem : `shape ${details.shapeIndex}: ${problem}`;
    super(where, { section: 'annotation-json', byteOffset: details.byteOffset ?? 0, recordIndex: details.recordIndex, expected: details.expected, actual: details.actual });
    this.shapeIndex = details.shapeIndex;
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parse annotation JSON text (or its UTF-8 bytes). */
export function parseAnnotation(text: string | Uint8Array, options: ParseAnnotationOptions = {}): Annotation {
  const { recordIndex, mode = 'v1' } = options;
  let source: string;
  if (typeof text === 'string') source = text;
  else {
    try {
      source = decoder.decode(text);
    } catch {
      throw new AnnotationError('annotation is not valid UTF-8', { recordIndex });
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (e) {
    const message = (e as Error).message;
    const position = /position (\d+)/.exec(message);
    throw new AnnotationError(`bad JSON (${message})`, { recordIndex, byteOffset: position ? Number(position[1]) : 0 });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new AnnotationError('annotation must be a JSON object', { recordIndex, expected: 'object', actual: describe(json) });
  }
  const shapesJson = (json as Record<string, unknown>).shapes;
  if (shapesJson === undefined && mode === 'v1') return { shapes: [] };
  if (!Array.isArray(shapesJson)) {
    throw new AnnotationError('"shapes" must be an array', { recordIndex, expected: 'array', actual: describe(shapesJson) });
  }
  return { shapes: shapesJson.map((s, shapeIndex) => parseShape(s, { recordIndex, shapeIndex })) };
}

interface Where {
  recordIndex?: number;
  shapeIndex: number;
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function num(obj: Record<string, unknown>, key: string, where: Where, context: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new AnnotationError(`${context}.${key} must be a finite number`, { ...where, expected: 'number', actual: describe(v) });
  }
  return v;
}

function object(value: unknown, where: Where, context: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AnnotationError(`${context} must be an object`, { ...where, expected: 'object', actual: describe(value) });
  }
  return value as Record<string, unknown>;
}

function points(value: unknown, where: Where, context: string): NormalizedPoint[] {
  if (!Array.isArray(value)) throw new AnnotationError(`${context} must be an array`, { ...where, expected: 'array', actual: describe(value) });
  return value.map((p, i) => {
    const o = object(p, where, `${context}[${i}]`);
    return { x: num(o, 'x', where, `${context}[${i}]`), y: num(o, 'y', where, `${context}[${i}]`) };
  });
}

function parseShape(value: unknown, where: Where): Shape {
  const s = object(value, where, 'shape');
  const geometry = object(s.geometry, where, 'geometry');
  const base: ShapeBase = {};
  if (s.label !== undefined && s.label !== null) {
    if (typeof s.label === 'number' && Number.isFinite(s.label)) base.label = s.label;
    else if (Array.isArray(s.label) && s.label.length <= 4 && s.label.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      base.label = s.label as number[];
    } else {
      throw new AnnotationError('label must be a number or an array of at most 4 numbers', { ...where, expected: 'number | number[]', actual: describe(s.label) });
    }
  }
  if (typeof s.tag === 'number') base.tag = s.tag;
  switch (s.type) {
    case 'rect':
    case 'ellipse':
      return {
        ...base, type: s.type, x: num(geometry, 'x', where, 'geometry'), y: num(geometry, 'y', where, 'geometry'),
        width: num(geometry, 'width', where, 'geometry'), height: num(geometry, 'height', where, 'geometry'),
      };
    case 'polygon':
      return { ...base, type: 'polygon', points: points(geometry.points, where, 'geometry.points') };
    case 'polygons': {
      const rings = geometry.points;
      if (!Array.isArray(rings)) throw new AnnotationError('geometry.points must be an array of rings', { ...where, expected: 'array', actual: describe(rings) });
      return { ...base, type: 'polygons', rings: rings.map((ring, i) => points(ring, where, `geometry.points[${i}]`)) };
    }
    case 'point':
      return { ...base, type: 'point', x: num(geometry, 'x', where, 'geometry'), y: num(geometry, 'y', where, 'geometry') };
    case 'rle': {
      const size = geometry.size;
      const counts = geometry.counts;
      if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isSafeInteger(v) && v > 0)) {
        throw new AnnotationError('geometry.size must be [height, width], two positive integers', { ...where, expected: '[height, width]', actual: describe(size) });
      }
      if (typeof counts !== 'string' && !Array.isArray(counts)) throw new AnnotationError('geometry.counts must be a string or an array', { ...where, expected: 'string | number[]', actual: describe(counts) });
      try {
        const rle = { size: size as [number, number], counts: counts as string | number[] };
        return { ...base, type: 'rle', ...rle, runs: rleRuns(rle) };
      } catch (error) {
        if (error instanceof RangeError) throw new AnnotationError(`geometry.counts: ${error.message}`, { ...where });
        throw error;
      }
    }
    default:
      throw new AnnotationError('unknown shape type', { ...where, expected: 'rect, ellipse, polygon, polygons, point or rle', actual: JSON.stringify(s.type) ?? 'undefined' });
  }
}

/**
 * Union bounding box of the shapes in normalised coordinates (v1 Annotation::bbox: rects,
 * ellipses and polygons with positive area; points count as their point_radius box), or null.
 */
export function annotationBounds(annotation: Annotation, pointRadius: { x: number; y: number } = { x: 0, y: 0 }): { x: number; y: number; width: number; height: number } | null {
  let minX = 1, minY = 1, maxX = 0, maxY = 0;
  const add = (x0: number, y0: number, x1: number, y1: number) => {
    if (!((x1 - x0) * (y1 - y0) > 0)) return;
    minX = Math.min(minX, x0); minY = Math.min(minY, y0);
    maxX = Math.max(maxX, x1); maxY = Math.max(maxY, y1);
  };
  const addPoints = (pts: NormalizedPoint[]) => {
    let x0 = 1, y0 = 1, x1 = 0, y1 = 0;
    for (const p of pts) { x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y); }
    add(x0, y0, x1, y1);
  };
  for (const s of annotation.shapes) {
    if (s.type === 'rect' || s.type === 'ellipse') add(s.x, s.y, s.x + s.width, s.y + s.height);
    else if (s.type === 'polygon') addPoints(s.points);
    else if (s.type === 'polygons') for (const r of s.rings) addPoints(r);
    else if (s.type === 'rle') {
      const [x, y, w, h] = rleBbox({ size: s.size, counts: s.runs });
      add(x / s.size[1], y / s.size[0], (x + w) / s.size[1], (y + h) / s.size[0]);
    }
    else add(s.x - pointRadius.x, s.y - pointRadius.y, s.x + pointRadius.x, s.y + pointRadius.y);
  }
  // Both extents positive (v1 tested only their product, so "no shapes" gave a box of area (−1)·(−1)).
  return maxX > minX && maxY > minY ? { x: minX, y: minY, width: maxX - minX, height: maxY - minY } : null;
}
