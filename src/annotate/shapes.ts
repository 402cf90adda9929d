// The annotator's shape model: picpac's normalised shapes (REFERENCE §1.3.3: coordinates are
// fractions of the image width and height) plus what an editor needs — a stable id per shape
// (Owl keyed shapes by their geometry, §2.1.9 #1) and a class name. Every converter goes
// through these types, and `checkShape` is the one strict validator (server bodies, imports).
import { PicpacError } from '../errors.ts';
import { rleBbox, rleRuns } from '../augment/pixels/coco-rle.ts';
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
  /** COCO `iscrowd: 1` (a group of objects; evaluation ignores detections on it). */
  crowd?: boolean;
  /**
   * Labelled keypoints of the instance (COCO `keypoints` next to a segmentation or box),
   * normalised, `v` the COCO visibility (1 labelled but hidden, 2 visible; 0 = not labelled).
   */
  keypoints?: Keypoint[];
  /**
   * What COCO said about the shape that picpac would compute differently (annotation `id`,
   * `bbox` and `area` in pixels): written back unchanged, so import → export is a fixed point.
   * The annotator drops it when a shape is edited (checkShape keeps it only with keepSource).
   */
  coco?: CocoSource;
}
export interface Keypoint {
  x: number;
  y: number;
  v: 0 | 1 | 2;
}
export interface CocoSource {
  id?: number;
  bbox?: [number, number, number, number];
  area?: number;
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
/** Ellipse inscribed in its (normalised) bounding box. */
export interface EllipseShape extends ShapeCommon {
  type: 'ellipse';
  geometry: RectGeometry;
}
/** One instance made of several rings (COCO multi-part segmentation); filled as their union. */
export interface PolygonsShape extends ShapeCommon {
  type: 'polygons';
  geometry: { points: Point[][] };
}
/**
 * A pixel mask as COCO run-length encoding, exactly as COCO stores it: `size` [height, width]
 * of the image it was made for, `counts` column-major run lengths starting with a run of 0s —
 * a number list (uncompressed) or pycocotools' compressed string. SPEC §7 shape `rle`.
 */
export interface RleShape extends ShapeCommon {
  type: 'rle';
  geometry: RleGeometry;
}
export interface RleGeometry {
  size: [number, number];
  counts: number[] | string;
}
export type Shape = RectShape | PolygonShape | PointShape | EllipseShape | PolygonsShape | RleShape;
/** Shapes the annotator page draws. */
export type ShapeType = 'rect' | 'polygon' | 'point';
export const SHAPE_TYPES: readonly ShapeType[] = ['rect', 'polygon', 'point'];
/** Every shape type picpac stores (SPEC §7 [ANN-2]). */
export type StoredShapeType = Shape['type'];
export const STORED_SHAPE_TYPES: readonly StoredShapeType[] = ['rect', 'ellipse', 'polygon', 'polygons', 'point', 'rle'];

/** One image and its shapes, as every converter sees it. */
export interface ImageAnnotation {
  /** Path relative to the dataset's image folder (COCO file_name, VOC filename, YOLO stem source). */
  fileName: string;
  /** Pixels: needed by every pixel-based format. */
  width: number;
  height: number;
  shapes: Shape[];
  verified?: boolean;
  /** The source's image id (COCO `images[].id`; a .picpac record id), kept through a round trip. */
  id?: number;
}

/** What COCO says about a class (the class table's `coco` entry, class-table.ts). */
export interface CocoCategoryInfo {
  id: number;
  supercategory?: string;
  /** Keypoint names of the category (COCO keypoint detection). */
  keypoints?: string[];
  /** Pairs of 1-based keypoint indices. */
  skeleton?: number[][];
}

export interface AnnotatedSet {
  /** Class names; class k has picpac label k+1, COCO category id k+1, YOLO class id k. */
  classes: string[];
  images: ImageAnnotation[];
  /** COCO facts about classes, by class name (the class table's `coco` entries). */
  coco?: Record<string, CocoCategoryInfo>;
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

function pointList(value: unknown, where: string): Point[] {
  if (!Array.isArray(value) || value.length < 3 || value.length > MAX_POLYGON_POINTS) {
    throw new AnnotationInputError(`a polygon needs 3..${MAX_POLYGON_POINTS} points, got ${Array.isArray(value) ? value.length : describe(value)}`, { path: where });
  }
  return value.map((p, i) => {
    if (!isObject(p)) throw new AnnotationInputError(`must be an object {x, y}, got ${describe(p)}`, { path: `${where}[${i}]` });
    return { x: fraction(p.x, 'x', `${where}[${i}]`), y: fraction(p.y, 'y', `${where}[${i}]`) };
  });
}

function box(geometry: Record<string, unknown>, g: string, kind: string): RectGeometry {
  const x = fraction(geometry.x, 'x', g);
  const y = fraction(geometry.y, 'y', g);
  const width = fraction(geometry.width, 'width', g);
  const height = fraction(geometry.height, 'height', g);
  const problem = boxProblem(x, y, width, height, kind);
  if (problem !== undefined) throw new AnnotationInputError(problem, { path: g });
  return { x, y, width: Math.min(width, 1 - x), height: Math.min(height, 1 - y) };
}

function rleGeometry(geometry: Record<string, unknown>, g: string): RleGeometry {
  const size = geometry.size;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isSafeInteger(v) && v > 0)) {
    throw new AnnotationInputError(`size must be [height, width], two positive integers, got ${describe(size)}`, { path: `${g}.size` });
  }
  const counts = geometry.counts;
  if (typeof counts !== 'string' && !Array.isArray(counts)) throw new AnnotationInputError(`counts must be a string or a list of run lengths, got ${describe(counts)}`, { path: `${g}.counts` });
  const rle: RleGeometry = { size: [size[0], size[1]], counts: typeof counts === 'string' ? counts : [...(counts as number[])] };
  try {
    rleRuns(rle);
  } catch (error) {
    if (error instanceof RangeError) throw new AnnotationInputError(error.message, { path: `${g}.counts` });
    throw error;
  }
  return rle;
}

function keypointList(value: unknown, where: string): Keypoint[] {
  if (!Array.isArray(value) || value.length > MAX_POLYGON_POINTS) throw new AnnotationInputError(`keypoints must be a list of {x, y, v}, got ${describe(value)}`, { path: where });
  return value.map((k, i) => {
    if (!isObject(k) || !(k.v === 0 || k.v === 1 || k.v === 2)) throw new AnnotationInputError('a keypoint must be {x, y, v} with v 0, 1 or 2', { path: `${where}[${i}]` });
    return { x: fraction(k.x, 'x', `${where}[${i}]`), y: fraction(k.y, 'y', `${where}[${i}]`), v: k.v };
  });
}

function cocoSource(value: unknown): CocoSource | undefined {
  if (!isObject(value)) return undefined;
  const out: CocoSource = {};
  if (Number.isSafeInteger(value.id)) out.id = value.id as number;
  if (Array.isArray(value.bbox) && value.bbox.length === 4 && value.bbox.every((v) => typeof v === 'number' && Number.isFinite(v))) out.bbox = [...value.bbox] as CocoSource['bbox'];
  if (typeof value.area === 'number' && Number.isFinite(value.area) && value.area >= 0) out.area = value.area;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Validate one shape object (unknown keys ignored, `style` etc. dropped): type, geometry in
 * [0, 1], positive rect/ellipse size, ≥ 3 points per polygon ring, a consistent RLE, optional
 * id/class/tag/crowd/keypoints; `coco` (the imported COCO id, bbox, area) only with
 * `keepSource` — the annotator's edits come without it, so an edited shape's box is recomputed.
 * Throws AnnotationInputError naming `where` (a JSON path such as `shapes[3]`).
 */
export function checkShape(value: unknown, where = 'shape', options: { keepSource?: boolean } = {}): Shape {
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
  if (value.crowd === true) common.crowd = true;
  if (value.keypoints !== undefined) common.keypoints = keypointList(value.keypoints, `${where}.keypoints`);
  if (options.keepSource) {
    const coco = cocoSource(value.coco);
    if (coco) common.coco = coco;
  }
  const g = `${where}.geometry`;
  switch (value.type) {
    case 'rect':
      return { ...common, type: 'rect', geometry: box(geometry, g, 'a rect') };
    case 'ellipse':
      return { ...common, type: 'ellipse', geometry: box(geometry, g, 'an ellipse') };
    case 'polygon':
      return { ...common, type: 'polygon', geometry: { points: pointList(geometry.points, `${g}.points`) } };
    case 'polygons': {
      const rings = geometry.points;
      if (!Array.isArray(rings) || rings.length === 0) throw new AnnotationInputError(`polygons needs a non-empty list of rings, got ${describe(rings)}`, { path: `${g}.points` });
      return { ...common, type: 'polygons', geometry: { points: rings.map((ring, r) => pointList(ring, `${g}.points[${r}]`)) } };
    }
    case 'point':
      return { ...common, type: 'point', geometry: { x: fraction(geometry.x, 'x', g), y: fraction(geometry.y, 'y', g) } };
    case 'rle':
      return { ...common, type: 'rle', geometry: rleGeometry(geometry, g) };
    default:
      throw new AnnotationInputError(`type must be one of ${STORED_SHAPE_TYPES.join(', ')}, got ${describe(value.type)}`, { path: where });
  }
}

/** Bounding box of a shape in normalised units (a point gives a zero-size box). */
export function shapeBounds(shape: Shape): RectGeometry {
  if (shape.type === 'rect' || shape.type === 'ellipse') return { ...shape.geometry };
  if (shape.type === 'point') return { x: shape.geometry.x, y: shape.geometry.y, width: 0, height: 0 };
  if (shape.type === 'rle') {
    const [x, y, w, h] = rleBbox(shape.geometry);
    const [mh, mw] = shape.geometry.size;
    return { x: x / mw, y: y / mh, width: w / mw, height: h / mh };
  }
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of shape.type === 'polygon' ? shape.geometry.points : shape.geometry.points.flat()) {
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

/**
 * A pixel coordinate for text output: 12 significant digits, so a value read from a file
 * (≤ 12 digits) and scaled back from its normalised form prints exactly as it was read
 * (90.034 / W · W = 90.03399999999999 → 90.034), and float noise never shows.
 */
export function pixelValue(value: number): number {
  const r = Number(value.toPrecision(12));
  return Object.is(r, -0) ? 0 : r;
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

/**
 * An ellipse as a polygon (normalised points) on a W × H image: vertices every 360/N degrees from
 * the rightmost point, N a multiple of 4 (so the four extreme points are vertices and the
 * polygon's box is the ellipse's box) with chords within ¼ pixel of the curve (16 ≤ N ≤ 360).
 * With W = H = 1 and `clamp` false, `g` and the result are in pixels: exporters build the
 * polygon from the box they print, so re-reading that box gives the same polygon.
 */
export function ellipsePolygon(g: RectGeometry, W: number, H: number, clamp = true): Point[] {
  const radiusPx = Math.max((g.width * W) / 2, (g.height * H) / 2, 1);
  const needed = Math.PI / Math.acos(Math.max(-1, 1 - 0.25 / radiusPx));
  const n = Math.min(360, Math.max(16, Math.ceil(needed / 4) * 4));
  const cx = g.x + g.width / 2;
  const cy = g.y + g.height / 2;
  const points: Point[] = [];
  for (let k = 0; k < n; k++) {
    const t = (2 * Math.PI * k) / n;
    // Exact extremes: cos/sin of multiples of 90° are not exactly 0/±1 in floating point.
    const c = k % (n / 4) === 0 ? [1, 0, -1, 0][k / (n / 4)] : Math.cos(t);
    const s = k % (n / 4) === 0 ? [0, 1, 0, -1][k / (n / 4)] : Math.sin(t);
    const x = cx + (g.width / 2) * c;
    const y = cy + (g.height / 2) * s;
    points.push(clamp ? { x: clamp01(x), y: clamp01(y) } : { x, y });
  }
  return points;
}
