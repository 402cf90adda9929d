// The annotator's shape model: picpac's normalised shapes (REFERENCE §1.3.3: coordinates are
// fractions of the image width and height) plus what an editor needs — a stable id per shape
// (Owl keyed shapes by their geometry, §2.1.9 #1) and a class name. Every converter goes
// through these types, and `checkShape` is the one strict validator (server bodies, imports).
import { PicpacError } from '../errors.ts';
import { MAX_POLYGON_POINTS, boxProblem, clampFraction, describeJsonValue, fractionProblem } from '../format/shape-rules.ts';

export interface Point {
  x: number;
  y: number;
}
export interface RectGeometry {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface ShapeCommon {
  /** Stable id (a UUID from the page; converters make one up when the format has none). */
  id?: string;
  /** Class name; exported as the 1-based `label` of the class in the project's class list. */
  className?: string;
  /** Instance tag (picpac `tag`). */
  tag?: number;
}
export interface RectShape extends ShapeCommon {
  type: 'rect';
  geometry: RectGeometry;
}
export interface PolygonShape extends ShapeCommon {
  type: 'polygon';
  geometry: { points: Point[] };
}
export interface PointShape extends ShapeCommon {
  type: 'point';
  geometry: Point;
}
export type Shape = RectShape | PolygonShape | PointShape;
export type ShapeType = Shape['type'];
export const SHAPE_TYPES: readonly ShapeType[] = ['rect', 'polygon', 'point'];

/** One image and its shapes, as every converter sees it. */
export interface ImageAnnotation {
  /** Path relative to the dataset's image folder (COCO file_name, VOC filename, YOLO stem source). */
  fileName: string;
  /** Pixels: needed by every pixel-based format. */
  width: number;
  height: number;
  shapes: Shape[];
  verified?: boolean;
}

export interface AnnotatedSet {
  /** Class names; class k has picpac label k+1, COCO category id k+1, YOLO class id k. */
  classes: string[];
  images: ImageAnnotation[];
}

/** Shapes without a class go to this class in formats that require one (COCO, VOC, YOLO). */
export const DEFAULT_CLASS = 'object';

/** Limits on what a client may send (bounded work per request); the geometry rules live in src/format/shape-rules.ts. */
export { MAX_POLYGON_POINTS };
export const MAX_CLASS_NAME_LENGTH = 200;

/** Bad annotation input: names the file (and line, or JSON path) where it is. */
export class AnnotationInputError extends PicpacError {
  readonly line?: number;
  constructor(problem: string, where: { file?: string; line?: number; path?: string } = {}) {
    const place = [where.file, where.line !== undefined ? `line ${where.line}` : undefined, where.path].filter(Boolean).join(': ');
    super('FORMAT', place ? `${place}: ${problem}` : problem);
    if (where.file !== undefined) this.file = where.file;
    this.line = where.line;
  }
}

const describe = describeJsonValue;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function fraction(value: unknown, name: string, where: string): number {
  const problem = fractionProblem(value, name);
  if (problem !== undefined) throw new AnnotationInputError(problem, { path: where });
  return clampFraction(value as number);
}

/**
 * Validate one shape object (unknown keys ignored, `style` etc. dropped): type, geometry in
 * [0, 1], positive rect size, ≥ 3 polygon points, optional id/class/tag. Throws
 * AnnotationInputError naming `where` (a JSON path such as `shapes[3]`).
 */
export function checkShape(value: unknown, where = 'shape'): Shape {
  if (!isObject(value)) throw new AnnotationInputError(`must be an object, got ${describe(value)}`, { path: where });
  const geometry = value.geometry;
  if (!isObject(geometry)) throw new AnnotationInputError(`geometry must be an object, got ${describe(geometry)}`, { path: where });
  const common: ShapeCommon = {};
  if (value.id !== undefined) {
    if (typeof value.id !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(value.id)) throw new AnnotationInputError(`id must be 1..64 characters of [A-Za-z0-9_.:-], got ${describe(value.id)}`, { path: where });
    common.id = value.id;
  }
  const className = value.className ?? value.class;
  if (className !== undefined && className !== null) {
    if (typeof className !== 'string' || className.length === 0 || className.length > MAX_CLASS_NAME_LENGTH) throw new AnnotationInputError(`class must be a non-empty string of at most ${MAX_CLASS_NAME_LENGTH} characters, got ${describe(className)}`, { path: where });
    common.className = className;
  }
  if (value.tag !== undefined && value.tag !== null) {
    if (typeof value.tag !== 'number' || !Number.isSafeInteger(value.tag)) throw new AnnotationInputError(`tag must be an integer, got ${describe(value.tag)}`, { path: where });
    common.tag = value.tag;
  }
  const g = `${where}.geometry`;
  switch (value.type) {
    case 'rect': {
      const x = fraction(geometry.x, 'x', g);
      const y = fraction(geometry.y, 'y', g);
      const width = fraction(geometry.width, 'width', g);
      const height = fraction(geometry.height, 'height', g);
      const problem = boxProblem(x, y, width, height);
      if (problem !== undefined) throw new AnnotationInputError(problem, { path: g });
      return { ...common, type: 'rect', geometry: { x, y, width: Math.min(width, 1 - x), height: Math.min(height, 1 - y) } };
    }
    case 'polygon': {
      const points = geometry.points;
      if (!Array.isArray(points) || points.length < 3 || points.length > MAX_POLYGON_POINTS) {
        throw new AnnotationInputError(`a polygon needs 3..${MAX_POLYGON_POINTS} points, got ${Array.isArray(points) ? points.length : describe(points)}`, { path: `${g}.points` });
      }
      return {
        ...common,
        type: 'polygon',
        geometry: {
          points: points.map((p, i) => {
            if (!isObject(p)) throw new AnnotationInputError(`must be an object {x, y}, got ${describe(p)}`, { path: `${g}.points[${i}]` });
            return { x: fraction(p.x, 'x', `${g}.points[${i}]`), y: fraction(p.y, 'y', `${g}.points[${i}]`) };
          }),
        },
      };
    }
    case 'point':
      return { ...common, type: 'point', geometry: { x: fraction(geometry.x, 'x', g), y: fraction(geometry.y, 'y', g) } };
    default:
      throw new AnnotationInputError(`type must be one of ${SHAPE_TYPES.join(', ')}, got ${describe(value.type)}`, { path: where });
  }
}

/** Bounding box of a shape in normalised units (a point gives a zero-size box). */
export function shapeBounds(shape: Shape): RectGeometry {
  if (shape.type === 'rect') return { ...shape.geometry };
  if (shape.type === 'point') return { x: shape.geometry.x, y: shape.geometry.y, width: 0, height: 0 };
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of shape.geometry.points) {
    x0 = Math.min(x0, p.x);
    y0 = Math.min(y0, p.y);
    x1 = Math.max(x1, p.x);
    y1 = Math.max(y1, p.y);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Shoelace area of a polygon given in pixels. */
export function polygonArea(points: Point[]): number {
  let twice = 0;
  for (let i = 0; i < points.length; i++) {
    const a = points[i];
    const b = points[(i + 1) % points.length];
    twice += a.x * b.y - b.x * a.y;
  }
  return Math.abs(twice) / 2;
}

/**
 * The full class list for an export: the declared classes first, then class names met in the
 * shapes (in order of appearance), then DEFAULT_CLASS when some shape has none and `needDefault`.
 */
export function resolveClasses(set: AnnotatedSet, options: { needDefault: boolean }): string[] {
  const classes = [...set.classes];
  const seen = new Set(classes);
  let unnamed = false;
  for (const image of set.images) {
    for (const shape of image.shapes) {
      if (shape.className === undefined) unnamed = true;
      else if (!seen.has(shape.className)) {
        seen.add(shape.className);
        classes.push(shape.className);
      }
    }
  }
  if (unnamed && options.needDefault && !seen.has(DEFAULT_CLASS)) classes.push(DEFAULT_CLASS);
  return classes;
}

/** Round for text output: enough digits to stay well within a pixel, no float noise. */
export function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits;
  const r = Math.round(value * scale) / scale;
  return Object.is(r, -0) ? 0 : r;
}

export function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
