// COCO JSON (REFERENCE §2.6; cocodataset.org/#format-data) ⇄ an AnnotatedSet. Every area shape
// becomes an annotation pycocotools can turn into a mask (annToMask, COCOeval 'segm'):
//   rect      4-corner polygon, its box, w·h
//   ellipse   polygon (ellipsePolygon) + its exact box, π/4·w·h, attributes.shape "ellipse"
//   polygon   one ring;  polygons  several rings of ONE instance (COCO multi-part segmentation)
//   rle       the RLE as stored ({size, counts}, compressed string or run list)
// iscrowd is the shape's `crowd`; keypoints next to a segmentation are the shape's `keypoints`.
// A lone `point` has no area, so it is not an instance: points go to a second document (COCO's
// person_keypoints convention), one keypoint annotation each, in a category that names them
// (`keypoints: [name]`). Category ids come from the class table (cocoCategoryIds). Numbers are
// written with 12 significant digits, and the COCO id, bbox and area an import read are written
// back unchanged, so import → export is a fixed point.
import { rleArea, rleBbox, rleRuns } from '../../augment/pixels/coco-rle.ts';
import { cocoCategoryIds, type CocoCategoryInfo } from '../class-table.ts';
import {
  AnnotationInputError, clamp01, ellipsePolygon, pixelValue, polygonArea, resolveClasses, shapeBounds,
  type AnnotatedSet, type ImageAnnotation, type Keypoint, type Point, type Shape,
} from '../shapes.ts';

export interface CocoImage { id: number; file_name: string; width: number; height: number; [key: string]: unknown }
export interface CocoCategory { id: number; name: string; supercategory?: string; keypoints?: string[]; skeleton?: number[][] }
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  segmentation?: number[][] | { size: [number, number]; counts: number[] | string };
  area: number;
  bbox: [number, number, number, number];
  iscrowd: 0 | 1;
  keypoints?: number[];
  num_keypoints?: number;
  attributes?: Record<string, unknown>;
}
export interface CocoDataset {
  info?: Record<string, unknown>;
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}

export interface CocoExport {
  /** Instances: every shape with an area. */
  instances: CocoDataset;
  /** Lone points as keypoint annotations; undefined when there are none. */
  keypoints?: CocoDataset;
  pointCount: number;
}

type Box = [number, number, number, number];

function boxOf(points: Point[]): Box {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of points) {
    x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y);
  }
  return [pixelValue(x0), pixelValue(y0), pixelValue(x1 - x0), pixelValue(y1 - y0)];
}

/** The imported box when it still describes the shape (within 1.5 px), else the computed one. */
function keptBox(shape: Shape, computed: Box): Box {
  const kept = shape.coco?.bbox;
  return kept && kept.every((v, i) => Math.abs(v - computed[i]) <= 1.5) ? kept : computed;
}

/** Pixel segmentation, box and area of an area shape. */
function geometryOf(shape: Exclude<Shape, { type: 'point' }>, W: number, H: number): { segmentation: CocoAnnotation['segmentation']; bbox: Box; area: number } {
  const px = (points: Point[]): Point[] => points.map((p) => ({ x: pixelValue(p.x * W), y: pixelValue(p.y * H) }));
  const flat = (points: Point[]): number[] => points.flatMap((p) => [p.x, p.y]);
  switch (shape.type) {
    case 'rect': {
      const g = shape.geometry;
      const [x0, y0, x1, y1] = [pixelValue(g.x * W), pixelValue(g.y * H), pixelValue((g.x + g.width) * W), pixelValue((g.y + g.height) * H)];
      const bbox: Box = [x0, y0, pixelValue(x1 - x0), pixelValue(y1 - y0)];
      return { segmentation: [[x0, y0, x1, y0, x1, y1, x0, y1]], bbox, area: pixelValue(bbox[2] * bbox[3]) };
    }
    case 'ellipse': {
      const g = shape.geometry;
      const bbox: Box = [pixelValue(g.x * W), pixelValue(g.y * H), pixelValue(g.width * W), pixelValue(g.height * H)];
      // Built from the printed box (pixels), so an imported box gives back the same polygon.
      const ring = ellipsePolygon({ x: bbox[0], y: bbox[1], width: bbox[2], height: bbox[3] }, 1, 1, false).map((p) => ({ x: pixelValue(p.x), y: pixelValue(p.y) }));
      return { segmentation: [flat(ring)], bbox, area: pixelValue((Math.PI / 4) * bbox[2] * bbox[3]) };
    }
    case 'polygon': {
      const ring = px(shape.geometry.points);
      return { segmentation: [flat(ring)], bbox: boxOf(ring), area: pixelValue(polygonArea(ring)) };
    }
    case 'polygons': {
      const rings = shape.geometry.points.map(px);
      return { segmentation: rings.map(flat), bbox: boxOf(rings.flat()), area: pixelValue(rings.reduce((a, r) => a + polygonArea(r), 0)) };
    }
    case 'rle':
      return { segmentation: { size: [...shape.geometry.size], counts: shape.geometry.counts }, bbox: rleBbox(shape.geometry), area: rleArea(shape.geometry) };
  }
}

function keypointsFlat(keypoints: Keypoint[], W: number, H: number): number[] {
  return keypoints.flatMap((k) => [pixelValue(k.x * W), pixelValue(k.y * H), k.v]);
}

export function toCoco(set: AnnotatedSet): CocoExport {
  const classes = resolveClasses(set, { needDefault: true });
  const categoryIds = cocoCategoryIds(classes, set.coco);
  const categoryOf = (shape: Shape): number => categoryIds[classes.indexOf(shape.className ?? 'object')];
  const imageIds = set.images.map((im, i) => im.id ?? i + 1);
  const uniqueImageIds = new Set(imageIds).size === imageIds.length;
  const images: CocoImage[] = [];
  const instances: CocoAnnotation[] = [];
  const points: CocoAnnotation[] = [];
  const pointClasses = new Set<string>();
  // Imported annotation ids are kept; shapes without one get ids above every kept id.
  const usedIds = new Set<number>();
  const pending: CocoAnnotation[] = [];
  const claimId = (a: CocoAnnotation, shape: Shape): void => {
    const id = shape.coco?.id;
    if (id !== undefined && !usedIds.has(id)) {
      a.id = id;
      usedIds.add(id);
    } else pending.push(a);
  };
  set.images.forEach((image, i) => {
    const imageId = uniqueImageIds ? imageIds[i] : i + 1;
    const entry: CocoImage = { id: imageId, file_name: image.fileName, width: image.width, height: image.height };
    if (image.verified !== undefined) entry.verified = image.verified;
    images.push(entry);
    const W = image.width;
    const H = image.height;
    image.shapes.forEach((shape, position) => {
      const attributes: Record<string, unknown> = {};
      if (shape.id !== undefined) attributes.id = shape.id;
      // picpac JSON gives every shape a tag (its 1-based position by default): only another value is news.
      if (shape.tag !== undefined && shape.tag !== position + 1) attributes.tag = shape.tag;
      if (shape.type === 'point') {
        const x = pixelValue(shape.geometry.x * W);
        const y = pixelValue(shape.geometry.y * H);
        const a: CocoAnnotation = { id: 0, image_id: imageId, category_id: categoryOf(shape), area: shape.coco?.area ?? 0, bbox: shape.coco?.bbox ?? [x, y, 0, 0], iscrowd: 0, keypoints: [x, y, 2], num_keypoints: 1 };
        if (Object.keys(attributes).length > 0) a.attributes = attributes;
        pointClasses.add(shape.className ?? 'object');
        claimId(a, shape);
        points.push(a);
        return;
      }
      const g = geometryOf(shape, W, H);
      const a: CocoAnnotation = { id: 0, image_id: imageId, category_id: categoryOf(shape), segmentation: g.segmentation, area: shape.coco?.area ?? g.area, bbox: keptBox(shape, g.bbox), iscrowd: shape.crowd ? 1 : 0 };
      if (shape.keypoints !== undefined) {
        a.keypoints = keypointsFlat(shape.keypoints, W, H);
        a.num_keypoints = shape.keypoints.filter((k) => k.v > 0).length;
      }
      if (shape.type === 'ellipse') attributes.shape = 'ellipse';
      if (Object.keys(attributes).length > 0) a.attributes = attributes;
      claimId(a, shape);
      instances.push(a);
    });
  });
  let next = Math.max(0, ...usedIds) + 1;
  for (const a of pending) a.id = next++;
  const category = (name: string, k: number): CocoCategory => {
    const info: CocoCategoryInfo | undefined = set.coco?.[name];
    const c: CocoCategory = { id: categoryIds[k], name, supercategory: info?.supercategory ?? '' };
    if (info?.keypoints) c.keypoints = [...info.keypoints];
    if (info?.skeleton) c.skeleton = info.skeleton.map((pair) => [...pair]);
    return c;
  };
  const info = { description: 'exported by picpac', version: '1.0' };
  const out: CocoExport = { instances: { info, images, annotations: instances, categories: classes.map(category) }, pointCount: points.length };
  if (points.length > 0) {
    const categories = classes.flatMap((name, k) => (pointClasses.has(name) ? [{ ...category(name, k), keypoints: [name], skeleton: [] }] : []));
    out.keypoints = { info, images, annotations: points, categories };
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Read a parsed COCO document. `file` is named in errors (with the JSON path). */
export function fromCoco(json: unknown, options: { file?: string } = {}): AnnotatedSet {
  const file = options.file;
  const fail = (problem: string, path: string): never => {
    throw new AnnotationInputError(problem, { file, path });
  };
  if (!isObject(json)) fail('a COCO file must be a JSON object', '$');
  const doc = json as Record<string, unknown>;
  for (const key of ['images', 'annotations', 'categories']) if (!Array.isArray(doc[key])) fail(`"${key}" must be an array`, key);
  const categories = new Map<number, string>();
  const classes: string[] = [];
  const coco: Record<string, CocoCategoryInfo> = {};
  (doc.categories as unknown[]).forEach((c, i) => {
    if (!isObject(c) || !Number.isSafeInteger(c.id) || typeof c.name !== 'string' || c.name === '') fail('a category needs an integer id and a non-empty name', `categories[${i}]`);
    const cat = c as unknown as CocoCategory;
    if (categories.has(cat.id)) fail(`duplicate category id ${cat.id}`, `categories[${i}]`);
    if (classes.includes(cat.name)) fail(`two categories are named ${JSON.stringify(cat.name)}`, `categories[${i}]`);
    categories.set(cat.id, cat.name);
    classes.push(cat.name);
    const entry: CocoCategoryInfo = { id: cat.id };
    if (typeof cat.supercategory === 'string' && cat.supercategory !== '') entry.supercategory = cat.supercategory;
    // A one-keypoint category named after itself is how picpac writes lone points: nothing to keep.
    const selfNamed = Array.isArray(cat.keypoints) && cat.keypoints.length === 1 && cat.keypoints[0] === cat.name;
    if (Array.isArray(cat.keypoints) && cat.keypoints.every((k) => typeof k === 'string') && !selfNamed) entry.keypoints = [...cat.keypoints];
    if (Array.isArray(cat.skeleton) && cat.skeleton.length > 0 && !selfNamed) entry.skeleton = cat.skeleton.map((pair) => [...pair]);
    coco[cat.name] = entry;
  });
  const byId = new Map<number, ImageAnnotation>();
  const images: ImageAnnotation[] = [];
  (doc.images as unknown[]).forEach((im, i) => {
    if (!isObject(im) || !Number.isSafeInteger(im.id) || typeof im.file_name !== 'string' || im.file_name === '') fail('an image needs an integer id and a file_name', `images[${i}]`);
    const img = im as unknown as CocoImage;
    if (!Number.isSafeInteger(img.width) || !Number.isSafeInteger(img.height) || img.width <= 0 || img.height <= 0) fail('an image needs a positive integer width and height', `images[${i}]`);
    if (byId.has(img.id)) fail(`duplicate image id ${img.id}`, `images[${i}]`);
    const entry: ImageAnnotation = { fileName: img.file_name, width: img.width, height: img.height, shapes: [], id: img.id };
    if (typeof img.verified === 'boolean') entry.verified = img.verified;
    byId.set(img.id, entry);
    images.push(entry);
  });
  (doc.annotations as unknown[]).forEach((an, i) => {
    const path = `annotations[${i}]`;
    if (!isObject(an)) fail('an annotation must be an object', path);
    const a = an as Record<string, unknown>;
    const image = byId.get(a.image_id as number);
    if (image === undefined) fail(`image_id ${JSON.stringify(a.image_id)} is not in "images"`, path);
    const className = categories.get(a.category_id as number);
    if (className === undefined) fail(`category_id ${JSON.stringify(a.category_id)} is not in "categories"`, path);
    const W = image!.width;
    const H = image!.height;
    const bbox = a.bbox;
    const hasBox = Array.isArray(bbox) && bbox.length === 4 && bbox.every(finite);
    const extra: Omit<Shape, 'type' | 'geometry'> = { className };
    const source: NonNullable<Shape['coco']> = {};
    if (Number.isSafeInteger(a.id)) source.id = a.id as number;
    if (hasBox) source.bbox = [...(bbox as Box)] as Box;
    if (finite(a.area)) source.area = a.area;
    extra.coco = source;
    if (a.iscrowd === 1) extra.crowd = true;
    else if (a.iscrowd !== undefined && a.iscrowd !== 0) fail(`iscrowd must be 0 or 1, got ${JSON.stringify(a.iscrowd)}`, `${path}.iscrowd`);
    const attributes = isObject(a.attributes) ? a.attributes : {};
    if (typeof attributes.id === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(attributes.id)) extra.id = attributes.id;
    if (Number.isSafeInteger(attributes.tag)) extra.tag = attributes.tag as number;
    let keypoints: Keypoint[] | undefined;
    if (a.keypoints !== undefined) {
      const k = a.keypoints;
      if (!Array.isArray(k) || k.length % 3 !== 0 || !k.every(finite)) fail('keypoints must be a flat list of x, y, v triples', `${path}.keypoints`);
      keypoints = [];
      for (let j = 0; j < (k as number[]).length; j += 3) {
        const v = (k as number[])[j + 2];
        if (v !== 0 && v !== 1 && v !== 2) fail(`keypoint visibility must be 0, 1 or 2, got ${v}`, `${path}.keypoints[${j + 2}]`);
        keypoints.push({ x: clamp01((k as number[])[j] / W), y: clamp01((k as number[])[j + 1] / H), v: v as 0 | 1 | 2 });
      }
    }
    const push = (shape: Shape): void => {
      if (keypoints !== undefined && shape.type !== 'point') shape.keypoints = keypoints;
      image!.shapes.push(shape);
    };
    const segmentation = a.segmentation;
    if (isObject(segmentation)) {
      // RLE, compressed (counts a string) or not (a run list): kept exactly as COCO wrote it.
      const size = segmentation.size;
      const counts = segmentation.counts;
      if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isSafeInteger(v) && v > 0)) fail('RLE size must be [height, width]', `${path}.segmentation.size`);
      if (typeof counts !== 'string' && !(Array.isArray(counts) && counts.every((v) => Number.isSafeInteger(v) && v >= 0))) fail('RLE counts must be a string or a list of run lengths', `${path}.segmentation.counts`);
      const geometry = { size: [(size as number[])[0], (size as number[])[1]] as [number, number], counts: typeof counts === 'string' ? counts : [...(counts as number[])] };
      try {
        rleRuns(geometry);
      } catch (error) {
        fail((error as Error).message, `${path}.segmentation.counts`);
      }
      push({ ...extra, type: 'rle', geometry });
      return;
    }
    const rings = Array.isArray(segmentation) ? (segmentation as unknown[]) : [];
    if (rings.length > 0) {
      const parsed = rings.map((value, r) => {
        const ring = value as unknown[];
        if (!Array.isArray(ring) || ring.length < 6 || ring.length % 2 !== 0 || !ring.every(finite)) fail('a segmentation ring must be a flat list of at least 3 x, y pairs', `${path}.segmentation[${r}]`);
        const points: Point[] = [];
        for (let k = 0; k < ring.length; k += 2) points.push({ x: clamp01((ring[k] as number) / W), y: clamp01((ring[k + 1] as number) / H) });
        return { px: ring as number[], points };
      });
      const [x, y, w, h] = hasBox ? (bbox as number[]) : [0, 0, 0, 0];
      const boxGeometry = { x: clamp01(x / W), y: clamp01(y / H), width: Math.min(w / W, 1 - clamp01(x / W)), height: Math.min(h / H, 1 - clamp01(y / H)) };
      if (attributes.shape === 'ellipse' && hasBox && w > 0 && h > 0) push({ ...extra, type: 'ellipse', geometry: boxGeometry });
      else if (parsed.length === 1 && hasBox && w > 0 && h > 0 && isBoxRing(parsed[0].px, x, y, w, h)) push({ ...extra, type: 'rect', geometry: boxGeometry });
      else if (parsed.length === 1) push({ ...extra, type: 'polygon', geometry: { points: parsed[0].points } });
      else push({ ...extra, type: 'polygons', geometry: { points: parsed.map((p) => p.points) } });
      return;
    }
    if (hasBox && (bbox as number[])[2] > 0 && (bbox as number[])[3] > 0) {
      const [x, y, w, h] = bbox as number[];
      const x0 = clamp01(x / W);
      const y0 = clamp01(y / H);
      push({ ...extra, type: 'rect', geometry: { x: x0, y: y0, width: Math.min(w / W, 1 - x0), height: Math.min(h / H, 1 - y0) } });
      return;
    }
    if (keypoints !== undefined && keypoints.some((k) => k.v > 0)) {
      // No area: each labelled keypoint is a point (a one-keypoint annotation round-trips exactly).
      const labelled = keypoints.filter((k) => k.v > 0);
      for (const k of labelled) image!.shapes.push({ ...extra, ...(labelled.length > 1 ? { coco: undefined } : {}), type: 'point', geometry: { x: k.x, y: k.y } });
      return;
    }
    if (hasBox) fail(`bbox width and height must be positive, got ${(bbox as number[])[2]}×${(bbox as number[])[3]}`, `${path}.bbox`);
    fail('an annotation needs a segmentation, a bbox of positive size or labelled keypoints', path);
  });
  return { classes, images, coco };
}

/** The 4-corner ring picpac writes for a rect: (x, y) (x+w, y) (x+w, y+h) (x, y+h), to 1e-9 px. */
function isBoxRing(ring: number[], x: number, y: number, w: number, h: number): boolean {
  if (ring.length !== 8 || !(w > 1e-6 && h > 1e-6)) return false;
  const want = [x, y, x + w, y, x + w, y + h, x, y + h];
  return ring.every((v, i) => Math.abs(v - want[i]) <= 1e-9 * Math.max(1, Math.abs(want[i])));
}

/** Images of `extra` (a keypoints document) merged into `base` by image id, then by file name. */
export function mergeCocoSets(base: AnnotatedSet, extra: AnnotatedSet): AnnotatedSet {
  const byKey = new Map<string, ImageAnnotation>();
  for (const im of base.images) byKey.set(im.id !== undefined ? `#${im.id}` : im.fileName, im);
  const images = [...base.images];
  for (const im of extra.images) {
    const target = byKey.get(im.id !== undefined ? `#${im.id}` : im.fileName);
    if (target) target.shapes.push(...im.shapes);
    else images.push(im);
  }
  const classes = [...base.classes];
  const coco = { ...(extra.coco ?? {}), ...(base.coco ?? {}) };
  for (const c of extra.classes) if (!classes.includes(c)) classes.push(c);
  return { classes, images, coco };
}
