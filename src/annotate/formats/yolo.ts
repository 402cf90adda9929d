// YOLO txt (Darknet/Ultralytics, docs.ultralytics.com/datasets/detect and /segment), one file
// per image, normalised coordinates, 0-based class ids. A dataset is either boxes — `c xc yc w h`,
// a point as the zero-size box `c x y 0 0` — or segments — `c x1 y1 x2 y2 …` (≥ 3 points), a
// rect as its 4 corners, an ellipse as its polygon — never both in one dataset (yoloTaskOf).
// An empty file is a negative image. Class names live in classes.txt (one per line) or in a
// data.yaml `names:` entry; both are read and written here.
import { AnnotationInputError, ellipsePolygon, roundTo, shapeBounds, DEFAULT_CLASS, type ImageAnnotation, type Point, type Shape } from '../shapes.ts';

const DIGITS = 6;

/**
 * Ultralytics reads a label file with any polygon row as all polygons (a 5-field box row then
 * becomes a 2-point "polygon"), so one dataset is written one way: `segments` when any shape
 * has an outline (polygon, polygons, ellipse), else `boxes`.
 */
export type YoloTask = 'boxes' | 'segments';

export function yoloTaskOf(images: ReadonlyArray<Pick<ImageAnnotation, 'shapes'>>): YoloTask {
  return images.some((im) => im.shapes.some((s) => s.type === 'polygon' || s.type === 'polygons' || s.type === 'ellipse')) ? 'segments' : 'boxes';
}

/** What a label file could not say exactly, per kind: counted, never silent. */
export interface YoloLosses {
  /** Points in a segment dataset (a point has no outline): left out. */
  pointsDropped: number;
  /** COCO masks written as their box (boxes) or their box's outline (segments). */
  masksAsBoxes: number;
  /** Multi-part shapes joined into one outline (Ultralytics' merge of segments). */
  partsJoined: number;
  /** Ellipses written as their box in a box dataset. */
  ellipsesAsBoxes: number;
}

export function emptyLosses(): YoloLosses {
  return { pointsDropped: 0, masksAsBoxes: 0, partsJoined: 0, ellipsesAsBoxes: 0 };
}

/**
 * Several rings as one outline, as Ultralytics' merge_multi_segment does: walk ring 0, jump to
 * ring 1 and walk it, … then come back along the same jumps; the jumps have no area.
 */
function joinRings(rings: Point[][]): Point[] {
  const out: Point[] = [];
  const back: Point[] = [];
  for (const ring of rings) {
    out.push(...ring, ring[0]);
    back.unshift(ring[0]);
  }
  return [...out, ...back.slice(1)];
}

export function toYolo(image: Pick<ImageAnnotation, 'shapes'> & Partial<Pick<ImageAnnotation, 'width' | 'height'>>, classes: string[], task: YoloTask = yoloTaskOf([image]), losses: YoloLosses = emptyLosses()): string {
  const n = (v: number): string => String(roundTo(v, DIGITS));
  const lines: string[] = [];
  for (const shape of image.shapes) {
    const c = classes.indexOf(shape.className ?? DEFAULT_CLASS);
    if (c < 0) throw new RangeError(`class ${JSON.stringify(shape.className ?? DEFAULT_CLASS)} is not in the class list`);
    const b = shapeBounds(shape);
    if (task === 'boxes') {
      if (shape.type === 'point') lines.push([c, n(shape.geometry.x), n(shape.geometry.y), 0, 0].join(' '));
      else {
        if (shape.type === 'rle') losses.masksAsBoxes++;
        if (shape.type === 'ellipse') losses.ellipsesAsBoxes++;
        lines.push([c, n(b.x + b.width / 2), n(b.y + b.height / 2), n(b.width), n(b.height)].join(' '));
      }
      continue;
    }
    let ring: Point[];
    if (shape.type === 'point') {
      losses.pointsDropped++;
      continue;
    } else if (shape.type === 'polygon') ring = shape.geometry.points;
    else if (shape.type === 'polygons') {
      if (shape.geometry.points.length > 1) losses.partsJoined++;
      ring = joinRings(shape.geometry.points);
    } else if (shape.type === 'ellipse') ring = ellipsePolygon(shape.geometry, image.width ?? 1000, image.height ?? 1000);
    else {
      if (shape.type === 'rle') losses.masksAsBoxes++;
      ring = [{ x: b.x, y: b.y }, { x: b.x + b.width, y: b.y }, { x: b.x + b.width, y: b.y + b.height }, { x: b.x, y: b.y + b.height }];
    }
    lines.push([c, ...ring.flatMap((p) => [n(p.x), n(p.y)])].join(' '));
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

/** Read one label file. Class ids map to `classes` (an id beyond the list is an error). */
export function fromYolo(text: string, options: { classes: string[]; file?: string }): Shape[] {
  const shapes: Shape[] = [];
  text.split(/\r?\n/).forEach((row, i) => {
    const line = i + 1;
    const trimmed = row.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = trimmed.split(/\s+/);
    const values = fields.slice(1).map(Number);
    if (!/^\d+$/.test(fields[0])) throw new AnnotationInputError(`class id must be a non-negative integer, got ${JSON.stringify(fields[0])}`, { file: options.file, line });
    const classId = Number(fields[0]);
    const className = options.classes[classId];
    if (className === undefined) throw new AnnotationInputError(`class id ${classId} is not in the class list (${options.classes.length} classes)`, { file: options.file, line });
    const bad = values.findIndex((v) => !Number.isFinite(v) || v < -1e-6 || v > 1 + 1e-6);
    if (bad >= 0) throw new AnnotationInputError(`value ${bad + 2} must be a normalised number in [0, 1], got ${JSON.stringify(fields[bad + 1])}`, { file: options.file, line });
    if (values.length === 4) {
      const [xc, yc, w, h] = values;
      // Values are kept as written (no clamping at the edges), so re-export is byte-identical.
      if (w === 0 && h === 0) shapes.push({ className, type: 'point', geometry: { x: xc, y: yc } });
      else if (w > 0 && h > 0) shapes.push({ className, type: 'rect', geometry: { x: xc - w / 2, y: yc - h / 2, width: w, height: h } }); else throw new AnnotationInputError(`a box needs a positive width and height (or both 0 for a point), got ${w} ${h}`, { file: options.file, line });
    } else if (values.length >= 6 && values.length % 2 === 0) {
      const points = [];
      for (let k = 0; k < values.length; k += 2) points.push({ x: values[k], y: values[k + 1] });
      // A rect in a segment dataset is its 4 corners from the top-left, clockwise: a rect again.
      const [p0, p1, p2, p3] = points;
      if (points.length === 4 && p0.y === p1.y && p1.x === p2.x && p2.y === p3.y && p3.x === p0.x && p1.x > p0.x && p2.y > p1.y) {
        shapes.push({ className, type: 'rect', geometry: { x: p0.x, y: p0.y, width: p1.x - p0.x, height: p2.y - p1.y } });
      } else shapes.push({ className, type: 'polygon', geometry: { points } });
    } else {
      throw new AnnotationInputError(`expected 'class xc yc w h' or 'class x1 y1 x2 y2 x3 y3 …', got ${values.length} numbers after the class`, { file: options.file, line });
    }
  });
  return shapes;
}

export function toClassesTxt(classes: string[]): string {
  return classes.map((c) => c.replace(/[\r\n]/g, ' ')).join('\n') + '\n';
}

export function fromClassesTxt(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
}

/**
 * Ultralytics data.yaml. Without `path:` Ultralytics resolves train/val next to the yaml file;
 * a `.txt` list names one image per line, `./`-relative to the list's folder.
 */
export function toDataYaml(classes: string[], options: { train?: string; val?: string; comment?: string } = {}): string {
  const quote = (s: string): string => JSON.stringify(s);
  return [
    ...(options.comment ? [`# ${options.comment}`] : []),
    `train: ${options.train ?? 'images'}`,
    `val: ${options.val ?? 'images'}`,
    `nc: ${classes.length}`,
    'names:',
    ...classes.map((name, k) => `  ${k}: ${quote(name)}`),
    '',
  ].join('\n');
}

/** The `names:` of an Ultralytics data.yaml: a block map `0: car`, a block list `- car` or a flow list `[car, plate]`. */
export function fromDataYaml(text: string, file?: string): string[] {
  const rows = text.split(/\r?\n/);
  const at = rows.findIndex((r) => /^names\s*:/.test(r));
  if (at < 0) throw new AnnotationInputError('no "names:" entry', { file });
  const unquote = (s: string): string => {
    const t = s.trim();
    if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) {
      return t.startsWith('"') ? (JSON.parse(t) as string) : t.slice(1, -1).replace(/''/g, "'");
    }
    return t;
  };
  const inline = rows[at].replace(/^names\s*:/, '').trim();
  if (inline.startsWith('[')) {
    if (!inline.endsWith(']')) throw new AnnotationInputError('"names:" flow list must be on one line', { file, line: at + 1 });
    return inline.slice(1, -1).split(',').map(unquote).filter((s) => s !== '');
  }
  const names: string[] = [];
  for (let i = at + 1; i < rows.length; i++) {
    const row = rows[i];
    if (row.trim() === '' || row.trim().startsWith('#')) continue;
    if (!/^\s/.test(row)) break;
    const list = /^\s+-\s*(.*)$/.exec(row);
    const map = /^\s+(\d+)\s*:\s*(.*)$/.exec(row);
    if (list) names.push(unquote(list[1]));
    else if (map) names[Number(map[1])] = unquote(map[2]);
    else throw new AnnotationInputError(`cannot read this "names" entry: ${JSON.stringify(row.trim())}`, { file, line: i + 1 });
  }
  if (Array.from(names).some((n) => n === undefined)) throw new AnnotationInputError('"names" leaves a class id without a name', { file, line: at + 1 });
  return names;
}
