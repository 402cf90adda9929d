// The seed's picpac-split-region (REFERENCE §1.5, object mode), pure over Image + annotation:
// for each shape, rescale the image so the object's longer side is about `size` pixels and cut
// a width × height region centred on it. Training on such regions instead of whole images keeps
// positive and negative pixels in proportion (a 50-pixel object in a 100 × 100 region is a
// quarter of it, whatever the photo's size). Every shape that intersects a region is kept,
// re-normalised to the region (coordinates may fall outside 0..1 when a shape is cut).
//
// Differences from the original: one geometry pass per region (scale + crop composed into one
// affine map, bilinear; label images nearest-neighbour), pixels beyond the image are filled with
// `background` (the original left zeros), and the window is shifted inside the image when the
// scaled image is larger than the window rather than padded.
import { invalidParameterError } from '../errors.ts';
import type { Annotation, NormalizedPoint, Shape } from './annotation.ts';
import { rleBbox } from './pixels/coco-rle.ts';
import type { Image } from './pixels/image.ts';
import { warpImage, warpLabel } from './pixels/warp.ts';
import type { GeometryPlan } from './pixels/warp.ts';

export interface SplitRegionOptions {
  /** Region width in pixels (required). */
  width: number;
  /** Region height in pixels (required). */
  height: number;
  /** Target size of the object's longer side, in pixels (default 50). */
  size?: number;
  /** Keep the image scale (default false): regions are cut at scale 1. */
  noScale?: boolean;
  /** Value of every channel for pixels outside the image (default 0). */
  background?: number;
  /** Radius (pixels) of point shapes, for their size (default 3, v1's point_radius). */
  pointRadius?: number;
  /** A label image to cut with the same geometry (nearest neighbour). */
  label?: Image;
}

export interface Region {
  image: Image;
  label?: Image;
  /** Shapes intersecting the region, in region-normalised coordinates. */
  annotation: Annotation;
  /** The scale applied to the source image. */
  scale: number;
  /** Index of the shape the region is centred on. */
  shapeIndex: number;
  /** The window in scaled-image pixels. */
  window: { left: number; top: number; width: number; height: number };
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Pixel bounding box of a shape on a width × height image. */
export function shapeBox(shape: Shape, width: number, height: number, pointRadius = 3): Box {
  const fromPoints = (points: NormalizedPoint[]): Box => {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const p of points) {
      x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y);
    }
    return points.length === 0 ? { x0: 0, y0: 0, x1: 0, y1: 0 } : { x0: x0 * width, y0: y0 * height, x1: x1 * width, y1: y1 * height };
  };
  switch (shape.type) {
    case 'rect':
    case 'ellipse':
      return { x0: shape.x * width, y0: shape.y * height, x1: (shape.x + shape.width) * width, y1: (shape.y + shape.height) * height };
    case 'polygon':
      return fromPoints(shape.points);
    case 'polygons':
      return fromPoints(shape.rings.flat());
    case 'rle': {
      const [x, y, w, h] = rleBbox({ size: shape.size, counts: shape.runs });
      return { x0: (x / shape.size[1]) * width, y0: (y / shape.size[0]) * height, x1: ((x + w) / shape.size[1]) * width, y1: ((y + h) / shape.size[0]) * height };
    }
    case 'point':
      return { x0: shape.x * width - pointRadius, y0: shape.y * height - pointRadius, x1: shape.x * width + pointRadius, y1: shape.y * height + pointRadius };
  }
}

function checkPositiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw invalidParameterError(name, 'an integer between 1 and 65535', value);
  }
  return value;
}

/** Map a shape's normalised coordinates: source → region (x' = (x·W·s − left) / width). */
function mapShape(shape: Shape, fx: (x: number) => number, fy: (y: number) => number, sx: number, sy: number): Shape {
  const point = (p: NormalizedPoint): NormalizedPoint => ({ x: fx(p.x), y: fy(p.y) });
  switch (shape.type) {
    case 'rect':
    case 'ellipse':
      return { ...shape, x: fx(shape.x), y: fy(shape.y), width: shape.width * sx, height: shape.height * sy };
    case 'polygon':
      return { ...shape, points: shape.points.map(point) };
    case 'polygons':
      return { ...shape, rings: shape.rings.map((ring) => ring.map(point)) };
    case 'rle':
      // A mask is not a list of coordinates: cutting it needs resampling, which regions do not do.
      throw invalidParameterError('annotation', 'shapes other than rle (a COCO mask cannot be cut into regions)', 'rle');
    case 'point':
      return { ...shape, x: fx(shape.x), y: fy(shape.y) };
  }
}

/** One region per shape (shapes with no extent use the point radius). */
export function splitRegions(image: Image, annotation: Annotation, options: SplitRegionOptions): Region[] {
  if (options === null || typeof options !== 'object') throw invalidParameterError('options', 'an object with width and height', options);
  const width = checkPositiveInteger('width', options.width);
  const height = checkPositiveInteger('height', options.height);
  const size = options.size ?? 50;
  if (typeof size !== 'number' || !(size > 0) || !Number.isFinite(size)) throw invalidParameterError('size', 'a positive number', size);
  const background = options.background ?? 0;
  if (typeof background !== 'number' || !Number.isFinite(background)) throw invalidParameterError('background', 'a finite number', background);
  const pointRadius = options.pointRadius ?? 3;
  const label = options.label;
  if (label !== undefined && (label.width !== image.width || label.height !== image.height)) {
    throw invalidParameterError('label', `an image of ${image.width}x${image.height}`, `${label.width}x${label.height}`);
  }
  const W = image.width;
  const H = image.height;
  if (W === 0 || H === 0) return [];
  const regions: Region[] = [];
  annotation.shapes.forEach((shape, shapeIndex) => {
    const box = shapeBox(shape, W, H, pointRadius);
    const extent = Math.max(box.x1 - box.x0, box.y1 - box.y0, 2 * pointRadius, 1);
    const scale = options.noScale ? 1 : size / extent;
    const scaledWidth = Math.max(1, Math.round(W * scale));
    const scaledHeight = Math.max(1, Math.round(H * scale));
    const left = windowStart(((box.x0 + box.x1) / 2) * scale, width, scaledWidth);
    const top = windowStart(((box.y0 + box.y1) / 2) * scale, height, scaledHeight);
    // Output pixel (x, y) is scaled-image pixel (x + left, y + top); cv::resize maps centres as (u + 0.5) / s − 0.5.
    const sx = scaledWidth / W;
    const sy = scaledHeight / H;
    const plan: GeometryPlan = {
      width, height, sourceWidth: W, sourceHeight: H,
      inverse: [1 / sx, 0, (left + 0.5) / sx - 0.5, 0, 1 / sy, (top + 0.5) / sy - 0.5],
      frame: { left: Math.max(0, -left), top: Math.max(0, -top), right: Math.min(width, scaledWidth - left), bottom: Math.min(height, scaledHeight - top) },
    };
    const out = warpImage(image, plan);
    if (background !== 0) fillOutside(out, plan.frame, background);
    const cutLabel = label === undefined ? undefined : warpLabel(label, plan);
    const fx = (x: number) => (x * scaledWidth - left) / width;
    const fy = (y: number) => (y * scaledHeight - top) / height;
    const shapes: Shape[] = [];
    for (const other of annotation.shapes) {
      const b = shapeBox(other, scaledWidth, scaledHeight, pointRadius * scale);
      if (b.x1 >= left && b.x0 <= left + width && b.y1 >= top && b.y0 <= top + height) {
        shapes.push(mapShape(other, fx, fy, scaledWidth / width, scaledHeight / height));
      }
    }
    regions.push({
      image: out, ...(cutLabel ? { label: cutLabel } : {}), annotation: { shapes }, scale: sx, shapeIndex,
      window: { left, top, width, height },
    });
  });
  return regions;
}

/** First pixel of a window of `windowSize` centred at `centre`, kept inside [0, total) when it fits. */
function windowStart(centre: number, windowSize: number, total: number): number {
  const start = Math.round(centre - windowSize / 2);
  if (total <= windowSize) return Math.round((total - windowSize) / 2);
  return Math.min(Math.max(0, start), total - windowSize);
}

function fillOutside(image: Image, frame: GeometryPlan['frame'], value: number): void {
  const { width, height, channels, data } = image;
  for (let y = 0; y < height; y++) {
    const inside = y >= frame.top && y < frame.bottom;
    for (let x = 0; x < width; x++) {
      if (inside && x >= frame.left && x < frame.right) continue;
      const o = (y * width + x) * channels;
      for (let k = 0; k < channels; k++) data[o + k] = value;
    }
  }
}

/** min / mean / max of the scales of some regions (the tool's report). */
export function scaleStatistics(scales: readonly number[]): { count: number; min: number; mean: number; max: number } {
  if (scales.length === 0) return { count: 0, min: 0, mean: 0, max: 0 };
  let min = Infinity, max = -Infinity, sum = 0;
  for (const s of scales) {
    min = Math.min(min, s);
    max = Math.max(max, s);
    sum += s;
  }
  return { count: scales.length, min, mean: sum / scales.length, max };
}

/** Shapes back to the stored JSON form ({"shapes": [{"type", "geometry", "label"?, "tag"?}]}). */
export function annotationToJson(annotation: Annotation): string {
  const shapes = annotation.shapes.map((shape) => {
    let geometry: unknown;
    switch (shape.type) {
      case 'rect':
      case 'ellipse':
        geometry = { x: shape.x, y: shape.y, width: shape.width, height: shape.height };
        break;
      case 'polygon':
        geometry = { points: shape.points };
        break;
      case 'polygons':
        geometry = { points: shape.rings };
        break;
      case 'rle':
        geometry = { size: shape.size, counts: shape.counts };
        break;
      case 'point':
        geometry = { x: shape.x, y: shape.y };
        break;
    }
    return { type: shape.type, geometry, ...(shape.label !== undefined ? { label: shape.label } : {}), ...(shape.tag !== undefined ? { tag: shape.tag } : {}) };
  });
  return JSON.stringify({ shapes });
}
