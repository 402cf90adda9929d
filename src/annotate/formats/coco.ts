// COCO JSON (REFERENCE §2.6) ⇄ an AnnotatedSet. Boxes go to `bbox` (absolute pixels, top-left
// plus size); polygons to `segmentation` (one flat ring) with their bounding box and shoelace
// area; a point to one visible keypoint (`keypoints: [x, y, 2]`, `num_keypoints: 1`) with a
// zero-size bbox. Category k+1 is class k. Reading accepts several rings per annotation (one
// polygon each) and falls back to the bbox for RLE masks.
import {
  AnnotationInputError, polygonArea, resolveClasses, roundTo, shapeBounds, clamp01,
  type AnnotatedSet, type ImageAnnotation, type Shape,
} from '../shapes.ts';

export interface CocoImage { id: number; file_name: string; width: number; height: number; [key: string]: unknown }
export interface CocoCategory { id: number; name: string; supercategory?: string }
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: [number, number, number, number];
  area: number;
  iscrowd: 0 | 1;
  segmentation: number[][] | Record<string, unknown>;
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

const PX_DIGITS = 3;

export function toCoco(set: AnnotatedSet): CocoDataset {
  const classes = resolveClasses(set, { needDefault: true });
  const categoryOf = (shape: Shape): number => classes.indexOf(shape.className ?? 'object') + 1;
  const images: CocoImage[] = [];
  const annotations: CocoAnnotation[] = [];
  set.images.forEach((image, i) => {
    const imageId = i + 1;
    const entry: CocoImage = { id: imageId, file_name: image.fileName, width: image.width, height: image.height };
    if (image.verified !== undefined) entry.verified = image.verified;
    images.push(entry);
    const W = image.width;
    const H = image.height;
    for (const shape of image.shapes) {
      const b = shapeBounds(shape);
      const bbox: [number, number, number, number] = [roundTo(b.x * W, PX_DIGITS), roundTo(b.y * H, PX_DIGITS), roundTo(b.width * W, PX_DIGITS), roundTo(b.height * H, PX_DIGITS)];
      const a: CocoAnnotation = { id: annotations.length + 1, image_id: imageId, category_id: categoryOf(shape), bbox, area: 0, iscrowd: 0, segmentation: [] };
      if (shape.type === 'rect') a.area = roundTo(bbox[2] * bbox[3], PX_DIGITS);
      else if (shape.type === 'polygon') {
        const px = shape.geometry.points.map((p) => ({ x: roundTo(p.x * W, PX_DIGITS), y: roundTo(p.y * H, PX_DIGITS) }));
        a.segmentation = [px.flatMap((p) => [p.x, p.y])];
        a.area = roundTo(polygonArea(px), PX_DIGITS);
      } else {
        a.keypoints = [bbox[0], bbox[1], 2];
        a.num_keypoints = 1;
      }
      const attributes: Record<string, unknown> = {};
      if (shape.id !== undefined) attributes.id = shape.id;
      if (shape.tag !== undefined) attributes.tag = shape.tag;
      if (Object.keys(attributes).length > 0) a.attributes = attributes;
      annotations.push(a);
    }
  });
  return {
    info: { description: 'exported by picpac', version: '1.0' },
    images,
    annotations,
    categories: classes.map((name, k) => ({ id: k + 1, name, supercategory: '' })),
  };
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
  (doc.categories as unknown[]).forEach((c, i) => {
    if (!isObject(c) || !Number.isSafeInteger(c.id) || typeof c.name !== 'string' || c.name === '') fail('a category needs an integer id and a non-empty name', `categories[${i}]`);
    const cat = c as unknown as CocoCategory;
    if (categories.has(cat.id)) fail(`duplicate category id ${cat.id}`, `categories[${i}]`);
    categories.set(cat.id, cat.name);
    if (!classes.includes(cat.name)) classes.push(cat.name);
  });
  const byId = new Map<number, ImageAnnotation>();
  const images: ImageAnnotation[] = [];
  (doc.images as unknown[]).forEach((im, i) => {
    if (!isObject(im) || !Number.isSafeInteger(im.id) || typeof im.file_name !== 'string' || im.file_name === '') fail('an image needs an integer id and a file_name', `images[${i}]`);
    const img = im as unknown as CocoImage;
    if (!Number.isSafeInteger(img.width) || !Number.isSafeInteger(img.height) || img.width <= 0 || img.height <= 0) fail('an image needs a positive integer width and height', `images[${i}]`);
    if (byId.has(img.id)) fail(`duplicate image id ${img.id}`, `images[${i}]`);
    const entry: ImageAnnotation = { fileName: img.file_name, width: img.width, height: img.height, shapes: [] };
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
    const extra: Pick<Shape, 'className' | 'id' | 'tag'> = { className };
    if (isObject(a.attributes)) {
      if (typeof a.attributes.id === 'string') extra.id = a.attributes.id;
      if (Number.isSafeInteger(a.attributes.tag)) extra.tag = a.attributes.tag as number;
    }
    const bbox = a.bbox;
    const hasBox = Array.isArray(bbox) && bbox.length === 4 && bbox.every(finite);
    const rings = Array.isArray(a.segmentation) ? (a.segmentation as unknown[]) : [];
    if (rings.length > 0) {
      rings.forEach((value, r) => {
        const ring = value as unknown[];
        if (!Array.isArray(ring) || ring.length < 6 || ring.length % 2 !== 0 || !ring.every(finite)) fail('a segmentation ring must be a flat list of at least 3 x, y pairs', `${path}.segmentation[${r}]`);
        const points = [];
        for (let k = 0; k < ring.length; k += 2) points.push({ x: clamp01((ring[k] as number) / W), y: clamp01((ring[k + 1] as number) / H) });
        image!.shapes.push({ ...extra, ...(rings.length > 1 && extra.id !== undefined ? { id: `${extra.id}.${r}` } : {}), type: 'polygon', geometry: { points } });
      });
      return;
    }
    const keypoints = a.keypoints;
    if (Array.isArray(keypoints) && keypoints.length >= 3 && keypoints.length % 3 === 0 && keypoints.every(finite) && (!hasBox || ((bbox as number[])[2] === 0 && (bbox as number[])[3] === 0))) {
      for (let k = 0; k < keypoints.length; k += 3) {
        if ((keypoints[k + 2] as number) === 0) continue; // not labelled
        image!.shapes.push({ ...extra, type: 'point', geometry: { x: clamp01((keypoints[k] as number) / W), y: clamp01((keypoints[k + 1] as number) / H) } });
      }
      return;
    }
    if (!hasBox) fail('an annotation needs a bbox [x, y, width, height], a polygon segmentation or keypoints', path);
    const [x, y, w, h] = bbox as number[];
    if (!(w > 0 && h > 0)) fail(`bbox width and height must be positive, got ${w}×${h}`, `${path}.bbox`);
    const x0 = clamp01(x / W);
    const y0 = clamp01(y / H);
    image!.shapes.push({ ...extra, type: 'rect', geometry: { x: x0, y: y0, width: Math.min(w / W, 1 - x0), height: Math.min(h / H, 1 - y0) } });
  });
  return { classes, images };
}
