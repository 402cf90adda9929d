// Geometry rules of annotation shapes ([ANN-2]: coordinates are fractions of the image width and
// height), shared by every place that accepts shapes: the annotator (src/annotate/shapes.ts
// checkShape), `picpac import` (shapes out of range are skipped and counted by line) and
// `picpac stat` (shapes out of range are counted). Pure functions on parsed JSON; the callers
// wrap the problem text into their own error types.

/** Normalised coordinates may overshoot [0, 1] by this much (rounding in pixel formats). */
export const EDGE_TOLERANCE = 1e-6;
/** Points of one polygon (or ring) at most: bounded work per shape. */
export const MAX_POLYGON_POINTS = 10_000;
/** Shape types of the annotation JSON ([ANN-2]). */
export const ANNOTATION_SHAPE_TYPES = ['rect', 'ellipse', 'polygon', 'polygons', 'point', 'rle'] as const;

/** A value as a problem message shows it. */
export function describeJsonValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 37) + '...' : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Why `value` is not a fraction in [0, 1] (± EDGE_TOLERANCE), or undefined when it is one. */
export function fractionProblem(value: unknown, name: string): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${name} must be a finite number, got ${describeJsonValue(value)}`;
  if (value < -EDGE_TOLERANCE || value > 1 + EDGE_TOLERANCE) return `${name} must be a fraction in [0, 1], got ${value}`;
  return undefined;
}

/** Clamp a fraction that passed fractionProblem into [0, 1]. */
export function clampFraction(value: number): number {
  return Math.min(1, Math.max(0, value));
}

/** Why an (x, y, width, height) box is not a valid rect/ellipse inside the image, or undefined. Fields already checked as fractions. */
export function boxProblem(x: number, y: number, width: number, height: number, what = 'a rect'): string | undefined {
  if (!(width > 0 && height > 0)) return `${what} needs a positive width and height, got ${width}×${height}`;
  if (x + width > 1 + EDGE_TOLERANCE || y + height > 1 + EDGE_TOLERANCE) return `the ${what.replace(/^an? /, '')} extends past the image`;
  return undefined;
}

/** Why a polygon point list is not valid, or undefined. */
export function pointsProblem(points: unknown, where: string): { path: string; problem: string } | undefined {
  if (!Array.isArray(points) || points.length < 3 || points.length > MAX_POLYGON_POINTS) {
    return { path: where, problem: `a polygon needs 3..${MAX_POLYGON_POINTS} points, got ${Array.isArray(points) ? points.length : describeJsonValue(points)}` };
  }
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const at = `${where}[${i}]`;
    if (!isObject(p)) return { path: at, problem: `must be an object {x, y}, got ${describeJsonValue(p)}` };
    const problem = fractionProblem(p.x, 'x') ?? fractionProblem(p.y, 'y');
    if (problem !== undefined) return { path: at, problem };
  }
  return undefined;
}

/** One shape that breaks the rules: its index in `shapes`, a JSON path and the problem. */
export interface ShapeProblem {
  shapeIndex: number;
  path: string;
  problem: string;
}

/**
 * Check one shape of the annotation JSON ([ANN-2] types: rect, ellipse, polygon, polygons,
 * point): finite fractions in [0, 1], boxes with a positive size inside the image, polygons of
 * 3..MAX_POLYGON_POINTS points, a label that is a number or at most 4 numbers. Unknown keys are
 * allowed. Returns the first problem, or undefined.
 */
export function annotationShapeProblem(shape: unknown, shapeIndex: number): ShapeProblem | undefined {
  const where = `shapes[${shapeIndex}]`;
  const fail = (problem: string, path = where): ShapeProblem => ({ shapeIndex, path, problem });
  if (!isObject(shape)) return fail(`must be an object, got ${describeJsonValue(shape)}`);
  const label = shape.label;
  if (label !== undefined && label !== null) {
    const ok = (typeof label === 'number' && Number.isFinite(label)) ||
      (Array.isArray(label) && label.length <= 4 && label.every((v) => typeof v === 'number' && Number.isFinite(v)));
    if (!ok) return fail(`label must be a number or an array of at most 4 numbers, got ${describeJsonValue(label)}`);
  }
  const geometry = shape.geometry;
  if (!isObject(geometry)) return fail(`geometry must be an object, got ${describeJsonValue(geometry)}`);
  const g = `${where}.geometry`;
  switch (shape.type) {
    case 'rect':
    case 'ellipse': {
      for (const key of ['x', 'y', 'width', 'height']) {
        const problem = fractionProblem(geometry[key], key);
        if (problem !== undefined) return fail(problem, g);
      }
      const problem = boxProblem(geometry.x as number, geometry.y as number, geometry.width as number, geometry.height as number, shape.type === 'rect' ? 'a rect' : 'an ellipse');
      return problem === undefined ? undefined : fail(problem, g);
    }
    case 'polygon': {
      const bad = pointsProblem(geometry.points, `${g}.points`);
      return bad === undefined ? undefined : fail(bad.problem, bad.path);
    }
    case 'polygons': {
      const rings = geometry.points;
      if (!Array.isArray(rings) || rings.length === 0) return fail(`geometry.points must be a non-empty array of rings, got ${describeJsonValue(rings)}`);
      for (let r = 0; r < rings.length; r++) {
        const bad = pointsProblem(rings[r], `${g}.points[${r}]`);
        if (bad !== undefined) return fail(bad.problem, bad.path);
      }
      return undefined;
    }
    case 'point': {
      const problem = fractionProblem(geometry.x, 'x') ?? fractionProblem(geometry.y, 'y');
      return problem === undefined ? undefined : fail(problem, g);
    }
    case 'rle': {
      // Structure only here; the run decoder (augment/pixels/coco-rle.ts) checks the runs.
      const size = geometry.size;
      if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isSafeInteger(v) && (v as number) > 0)) return fail(`size must be [height, width], two positive integers, got ${describeJsonValue(size)}`, `${g}.size`);
      const counts = geometry.counts;
      const runsOk = typeof counts === 'string' || (Array.isArray(counts) && counts.every((v) => Number.isSafeInteger(v) && (v as number) >= 0));
      return runsOk ? undefined : fail(`counts must be a string or a list of run lengths, got ${describeJsonValue(counts)}`, `${g}.counts`);
    }
    default:
      return fail(`type must be one of ${ANNOTATION_SHAPE_TYPES.join(', ')}, got ${describeJsonValue(shape.type)}`);
  }
}

/** The result of checking a whole annotation document. */
export interface AnnotationCheck {
  /** The document itself is unusable (not an object, `shapes` not an array). */
  documentProblem?: string;
  /** Shapes that break the rules (the others are fine). */
  shapeProblems: ShapeProblem[];
  shapeCount: number;
}

/** Check a parsed annotation JSON document ([ANN-2]); a missing `shapes` is an empty annotation (v1). */
export function checkAnnotationDocument(json: unknown): AnnotationCheck {
  if (!isObject(json)) return { documentProblem: `annotation must be a JSON object, got ${describeJsonValue(json)}`, shapeProblems: [], shapeCount: 0 };
  const shapes = json.shapes;
  if (shapes === undefined) return { shapeProblems: [], shapeCount: 0 };
  if (!Array.isArray(shapes)) return { documentProblem: `"shapes" must be an array, got ${describeJsonValue(shapes)}`, shapeProblems: [], shapeCount: 0 };
  const shapeProblems: ShapeProblem[] = [];
  for (let i = 0; i < shapes.length; i++) {
    const problem = annotationShapeProblem(shapes[i], i);
    if (problem !== undefined) shapeProblems.push(problem);
  }
  return { shapeProblems, shapeCount: shapes.length };
}
