// W3C Web Annotation / Annotorious (v2, v3) JSON (REFERENCE §2.2.3): one list of annotations,
// each with an `id`, a tagging TextualBody holding the class name, and a target whose
// `source` is the image file name. Rects and points use a media-fragment selector
// `xywh=pixel:x,y,w,h` (a point is zero-size); polygons an SvgSelector
// `<svg><polygon points="x,y x,y …"/></svg>` in pixels (one <polygon> per ring of a multi-part
// shape), ellipses `<svg><ellipse cx cy rx ry/></svg>`. A COCO mask has no W3C selector: it is
// left out and counted. Reading also accepts `xywh=percent:`
// and `xywh=` without a unit (pixels), so it needs each image's size only for pixel selectors.
import { AnnotationInputError, clamp01, roundTo, type AnnotatedSet, type ImageAnnotation, type Point, type Shape } from '../shapes.ts';

export interface W3cAnnotation {
  '@context': string;
  id: string;
  type: 'Annotation';
  body: Array<{ type: 'TextualBody'; purpose: string; value: string }>;
  target: { source: string; selector: { type: 'FragmentSelector' | 'SvgSelector'; conformsTo?: string; value: string } };
  [key: string]: unknown;
}

const CONTEXT = 'http://www.w3.org/ns/anno.jsonld';
const MEDIA_FRAGMENTS = 'http://www.w3.org/TR/media-frags/';
const PX = 3;

/** Shapes W3C selectors cannot hold (COCO masks), counted by toW3c's caller. */
export interface W3cSkipped {
  masks: number;
}

export function toW3c(set: AnnotatedSet, skipped: W3cSkipped = { masks: 0 }): W3cAnnotation[] {
  const out: W3cAnnotation[] = [];
  set.images.forEach((image, i) => {
    const W = image.width;
    const H = image.height;
    // Made-up ids count the annotations written (a left-out mask does not shift them).
    let written = 0;
    image.shapes.forEach((shape) => {
      if (shape.type === 'rle') {
        skipped.masks++;
        return;
      }
      const id = shape.id ?? `#${i + 1}-${++written}`;
      const body: W3cAnnotation['body'] = shape.className === undefined ? [] : [{ type: 'TextualBody', purpose: 'tagging', value: shape.className }];
      let selector: W3cAnnotation['target']['selector'];
      const svgPoints = (points: Point[]): string => points.map((p) => `${roundTo(p.x * W, PX)},${roundTo(p.y * H, PX)}`).join(' ');
      if (shape.type === 'polygon' || shape.type === 'polygons') {
        const rings = shape.type === 'polygon' ? [shape.geometry.points] : shape.geometry.points;
        selector = { type: 'SvgSelector', value: `<svg>${rings.map((ring) => `<polygon points="${svgPoints(ring)}"></polygon>`).join('')}</svg>` };
      } else if (shape.type === 'ellipse') {
        const g = shape.geometry;
        const [cx, cy, rx, ry] = [(g.x + g.width / 2) * W, (g.y + g.height / 2) * H, (g.width * W) / 2, (g.height * H) / 2].map((v) => roundTo(v, PX));
        selector = { type: 'SvgSelector', value: `<svg><ellipse cx="${cx}" cy="${cy}" rx="${rx}" ry="${ry}"></ellipse></svg>` };
      } else {
        const g = shape.type === 'rect' ? shape.geometry : { ...shape.geometry, width: 0, height: 0 };
        const xywh = [g.x * W, g.y * H, g.width * W, g.height * H].map((v) => roundTo(v, PX)).join(',');
        selector = { type: 'FragmentSelector', conformsTo: MEDIA_FRAGMENTS, value: `xywh=pixel:${xywh}` };
      }
      const a: W3cAnnotation = { '@context': CONTEXT, id, type: 'Annotation', body, target: { source: image.fileName, selector } };
      if (shape.type === 'point') a.picpacShape = 'point';
      if (shape.tag !== undefined) a.picpacTag = shape.tag;
      out.push(a);
    });
  });
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export interface W3cReadOptions {
  file?: string;
  /** Pixel size of an image named by `target.source` (undefined when unknown). */
  sizeOf(source: string): { width: number; height: number } | undefined;
  /** Images to include even without annotations (negatives), in this order. */
  images?: Array<{ fileName: string; width: number; height: number }>;
}

/** Read a W3C annotation list (or an object with an `items`/`annotations` list). */
export function fromW3c(json: unknown, options: W3cReadOptions): AnnotatedSet {
  const file = options.file;
  const fail = (problem: string, path: string): never => {
    throw new AnnotationInputError(problem, { file, path });
  };
  const list = Array.isArray(json) ? json : isObject(json) && Array.isArray(json.items) ? json.items : isObject(json) && Array.isArray(json.annotations) ? json.annotations : fail('expected a JSON list of annotations', '$');
  const byName = new Map<string, ImageAnnotation>();
  const images: ImageAnnotation[] = [];
  for (const im of options.images ?? []) {
    const entry: ImageAnnotation = { ...im, shapes: [] };
    byName.set(im.fileName, entry);
    images.push(entry);
  }
  const classes: string[] = [];
  (list as unknown[]).forEach((value, i) => {
    const path = `[${i}]`;
    if (!isObject(value)) fail('an annotation must be an object', path);
    const a = value as Record<string, unknown>;
    const target = Array.isArray(a.target) ? a.target[0] : a.target;
    if (!isObject(target)) fail('target must be an object', `${path}.target`);
    const t = target as Record<string, unknown>;
    const source = typeof t.source === 'string' ? t.source : isObject(t.source) && typeof t.source.id === 'string' ? t.source.id : undefined;
    if (source === undefined || source === '') fail('target.source must name the image', `${path}.target.source`);
    const selector = Array.isArray(t.selector) ? t.selector[0] : t.selector;
    if (!isObject(selector) || typeof selector.value !== 'string') fail('target.selector must have a string value', `${path}.target.selector`);
    const sel = selector as { type?: unknown; value: string };
    let image = byName.get(source!);
    const size = image ?? options.sizeOf(source!);
    const bodies = Array.isArray(a.body) ? a.body : a.body === undefined ? [] : [a.body];
    const tagBody = bodies.find((b) => isObject(b) && b.purpose === 'tagging' && typeof b.value === 'string') as { value: string } | undefined;
    const extra: Pick<Shape, 'className' | 'id' | 'tag'> = {};
    if (tagBody) {
      extra.className = tagBody.value;
      if (!classes.includes(tagBody.value)) classes.push(tagBody.value);
    }
    if (typeof a.id === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(a.id)) extra.id = a.id;
    if (Number.isSafeInteger(a.picpacTag)) extra.tag = a.picpacTag as number;
    let shape: Shape;
    if (sel.type === 'SvgSelector' || sel.value.trimStart().startsWith('<svg')) {
      if (!/<(polygon|ellipse)\b/.test(sel.value)) fail('SvgSelector must hold a <polygon points="…"> or an <ellipse>', `${path}.target.selector`);
      if (!size) fail(`size of image ${JSON.stringify(source)} is unknown (pixel coordinates)`, `${path}.target.source`);
      const ellipse = /<ellipse\b([^>]*)>/.exec(sel.value);
      const rings = [...sel.value.matchAll(/<polygon\b[^>]*\bpoints\s*=\s*["']([^"']*)["']/g)].map((m) => {
        const numbers = m[1].trim().split(/[\s,]+/).map(Number);
        if (numbers.length < 6 || numbers.length % 2 !== 0 || !numbers.every(Number.isFinite)) fail('polygon points must be at least 3 x,y pairs', `${path}.target.selector`);
        const points: Point[] = [];
        for (let k = 0; k < numbers.length; k += 2) points.push({ x: clamp01(numbers[k] / size!.width), y: clamp01(numbers[k + 1] / size!.height) });
        return points;
      });
      if (ellipse) {
        const attr = (name: string): number => Number(new RegExp(`\\b${name}\\s*=\\s*["']([^"']*)["']`).exec(ellipse[1])?.[1]);
        const [cx, cy, rx, ry] = ['cx', 'cy', 'rx', 'ry'].map(attr);
        if (![cx, cy, rx, ry].every(Number.isFinite) || !(rx > 0 && ry > 0)) fail('<ellipse> needs numeric cx, cy and positive rx, ry', `${path}.target.selector`);
        const x = clamp01((cx - rx) / size!.width);
        const y = clamp01((cy - ry) / size!.height);
        shape = { ...extra, type: 'ellipse', geometry: { x, y, width: Math.min((2 * rx) / size!.width, 1 - x), height: Math.min((2 * ry) / size!.height, 1 - y) } };
      } else if (rings.length === 0) fail('SvgSelector must hold a <polygon points="…"> or an <ellipse>', `${path}.target.selector`);
      else shape = rings.length === 1 ? { ...extra, type: 'polygon', geometry: { points: rings[0] } } : { ...extra, type: 'polygons', geometry: { points: rings } };
    } else {
      const m = /^xywh=(?:(pixel|percent):)?([^,]+),([^,]+),([^,]+),([^,]+)$/.exec(sel.value.trim());
      const values = m ? [m[2], m[3], m[4], m[5]].map(Number) : [];
      if (!m || !values.every(Number.isFinite)) fail(`FragmentSelector value must be xywh=[pixel:|percent:]x,y,w,h, got ${JSON.stringify(sel.value.slice(0, 60))}`, `${path}.target.selector`);
      let [x, y, w, h] = values;
      if (m![1] === 'percent') [x, y, w, h] = [x / 100, y / 100, w / 100, h / 100];
      else {
        if (!size) fail(`size of image ${JSON.stringify(source)} is unknown (pixel coordinates)`, `${path}.target.source`);
        [x, y, w, h] = [x / size!.width, y / size!.height, w / size!.width, h / size!.height];
      }
      if (w === 0 && h === 0) shape = { ...extra, type: 'point', geometry: { x: clamp01(x), y: clamp01(y) } };
      else if (w > 0 && h > 0) {
        const x0 = clamp01(x);
        const y0 = clamp01(y);
        shape = { ...extra, type: 'rect', geometry: { x: x0, y: y0, width: Math.min(w, 1 - x0), height: Math.min(h, 1 - y0) } };
      } else fail(`a box needs a positive width and height, got ${w}×${h}`, `${path}.target.selector`);
    }
    if (image === undefined) {
      if (!size) fail(`size of image ${JSON.stringify(source)} is unknown`, `${path}.target.source`);
      image = { fileName: source!, width: size!.width, height: size!.height, shapes: [] };
      byName.set(source!, image);
      images.push(image);
    }
    image.shapes.push(shape!);
  });
  return { classes, images };
}
