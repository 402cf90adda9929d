// YOLO txt (Darknet/Ultralytics, REFERENCE §2.6), one file per image, normalised coordinates,
// 0-based class ids. A box is `c xc yc w h`; a polygon is the segmentation form
// `c x1 y1 x2 y2 …` (≥ 3 points, so ≥ 6 numbers); a point is a zero-size box `c x y 0 0`.
// An empty file is a negative image. Class names live in classes.txt (one per line) or in a
// data.yaml `names:` entry; both are read and written here.
import { AnnotationInputError, roundTo, DEFAULT_CLASS, type ImageAnnotation, type Shape } from '../shapes.ts';

const DIGITS = 6;

export function toYolo(image: Pick<ImageAnnotation, 'shapes'>, classes: string[]): string {
  const lines = image.shapes.map((shape) => {
    const c = classes.indexOf(shape.className ?? DEFAULT_CLASS);
    if (c < 0) throw new RangeError(`class ${JSON.stringify(shape.className ?? DEFAULT_CLASS)} is not in the class list`);
    const n = (v: number): string => String(roundTo(v, DIGITS));
    if (shape.type === 'rect') {
      const g = shape.geometry;
      return [c, n(g.x + g.width / 2), n(g.y + g.height / 2), n(g.width), n(g.height)].join(' ');
    }
    if (shape.type === 'point') return [c, n(shape.geometry.x), n(shape.geometry.y), 0, 0].join(' ');
    return [c, ...shape.geometry.points.flatMap((p) => [n(p.x), n(p.y)])].join(' ');
  });
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
      shapes.push({ className, type: 'polygon', geometry: { points } });
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

export function toDataYaml(classes: string[], options: { train?: string; val?: string } = {}): string {
  const quote = (s: string): string => JSON.stringify(s);
  return [
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
