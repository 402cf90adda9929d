// A checker for COCO annotation files written from pycocotools' documented behaviour (Debian
// has no python3-pycocotools and pip cannot reach PyPI here): what COCO.annToRLE / annToMask
// and COCOeval('segm') do with each annotation, ported from pycocotools/coco.py and
// common/maskApi.c (rleFrPoly, rleFrString via coco-rle.ts, rleMerge by mask union).
//   - segmentation list: frPyObjects treats a ring of exactly 4 numbers as a BOX and indexes
//     pyobj[0] (an empty list raises IndexError); each ring is rasterised by rleFrPoly;
//   - segmentation dict: `counts` a list = uncompressed RLE, a string = compressed;
//   - COCOeval reads area, iscrowd, bbox of every ground-truth annotation.
import { rleDecode, rleRuns } from '../../src/augment/pixels/coco-rle.ts';

/** pycocotools maskApi.c rleFrPoly, returned as a decoded row-major mask. */
export function polygonMask(xy: number[], h: number, w: number): Uint8Array {
  const k = xy.length / 2;
  const scale = 5;
  const x: number[] = [];
  const y: number[] = [];
  for (let j = 0; j < k; j++) x.push(Math.trunc(scale * xy[2 * j] + 0.5));
  x.push(x[0]);
  for (let j = 0; j < k; j++) y.push(Math.trunc(scale * xy[2 * j + 1] + 0.5));
  y.push(y[0]);
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u.push(t + xs);
        v.push(Math.trunc(ys + s * t + 0.5));
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v.push(t + ys);
        u.push(Math.trunc(xs + s * t + 0.5));
      }
    }
  }
  const bx: number[] = [];
  const by: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = Math.ceil(yd);
    bx.push(xd);
    by.push(yd);
  }
  const a = bx.map((xv, j) => xv * h + by[j]);
  a.push(h * w);
  a.sort((p, q) => p - q);
  let p = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j];
    a[j] -= p;
    p = t;
  }
  const b: number[] = [];
  let j = 0;
  b.push(a[j++]);
  while (j < a.length) {
    if (a[j] > 0) b.push(a[j++]);
    else {
      j++;
      if (j < a.length) b[b.length - 1] += a[j++];
    }
  }
  return rleDecode({ size: [h, w], counts: b });
}

export interface CocoProblem {
  annotation: number;
  problem: string;
}

/** annToMask of one annotation on an h × w image, or the exception pycocotools would raise. */
export function annToMask(ann: Record<string, unknown>, h: number, w: number): Uint8Array {
  const segm = ann.segmentation;
  if (Array.isArray(segm)) {
    if (segm.length === 0) throw new Error('IndexError: list index out of range (frPyObjects(pyobj[0]))');
    const union = new Uint8Array(h * w);
    for (const ring of segm as number[][]) {
      if (!Array.isArray(ring) || ring.length % 2 !== 0) throw new Error('a polygon ring must be a flat list of x, y');
      if (ring.length === 4) throw new Error('a 4-number ring is read as a bbox by frPyObjects');
      if (ring.length < 6) throw new Error('a polygon needs at least 3 points');
      const m = polygonMask(ring, h, w);
      for (let i = 0; i < m.length; i++) union[i] |= m[i];
    }
    return union;
  }
  if (segm !== null && typeof segm === 'object') {
    const rle = segm as { size: [number, number]; counts: number[] | string };
    if (!Array.isArray(rle.size) || rle.size[0] !== h || rle.size[1] !== w) throw new Error(`RLE size ${JSON.stringify(rle.size)} is not the image's [${h}, ${w}]`);
    rleRuns(rle);
    return rleDecode(rle);
  }
  throw new Error("KeyError: 'segmentation'");
}

/** Every problem pycocotools' annToMask / COCOeval('segm') and ('bbox') would have with `doc`. */
export function checkCocoInstances(doc: { images: Array<Record<string, unknown>>; annotations: Array<Record<string, unknown>>; categories: Array<Record<string, unknown>> }): CocoProblem[] {
  const problems: CocoProblem[] = [];
  const images = new Map(doc.images.map((im) => [im.id as number, im]));
  const categories = new Set(doc.categories.map((c) => c.id as number));
  const ids = new Set<number>();
  doc.annotations.forEach((ann, i) => {
    const add = (problem: string) => problems.push({ annotation: i, problem });
    if (!Number.isSafeInteger(ann.id) || ids.has(ann.id as number)) add('id must be a unique integer');
    ids.add(ann.id as number);
    const image = images.get(ann.image_id as number);
    if (!image) return add('image_id not in images');
    if (!categories.has(ann.category_id as number)) add('category_id not in categories');
    if (ann.iscrowd !== 0 && ann.iscrowd !== 1) add('iscrowd must be 0 or 1');
    if (typeof ann.area !== 'number' || !(ann.area > 0)) add(`area must be positive, got ${ann.area}`);
    const bbox = ann.bbox as number[];
    if (!Array.isArray(bbox) || bbox.length !== 4 || !(bbox[2] > 0 && bbox[3] > 0)) add(`bbox must have a positive size, got ${JSON.stringify(bbox)}`);
    try {
      const mask = annToMask(ann, image.height as number, image.width as number);
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, area = 0;
      const W = image.width as number;
      for (let p = 0; p < mask.length; p++) {
        if (!mask[p]) continue;
        area++;
        const x = p % W;
        const y = (p - x) / W;
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
      if (area === 0) return add('the mask is empty');
      // The mask must lie where the box says (pixel rounding: ±1.5 px).
      if (Array.isArray(bbox) && ![x0 - bbox[0], y0 - bbox[1], x1 + 1 - (bbox[0] + bbox[2]), y1 + 1 - (bbox[1] + bbox[3])].every((d) => Math.abs(d) <= 1.5)) {
        add(`mask box ${[x0, y0, x1 - x0 + 1, y1 - y0 + 1]} does not match bbox ${bbox}`);
      }
    } catch (error) {
      add(`annToMask: ${(error as Error).message}`);
    }
  });
  return problems;
}
