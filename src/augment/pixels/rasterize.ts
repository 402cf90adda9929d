// Draw annotation shapes onto a label canvas, the way v1 did with OpenCV (no anti-aliasing):
// normalised coordinates × (cols, rows) rounded half away from zero (std::round), pixel centres
// at integer coordinates, filled shapes include their boundary (cv::rectangle / cv::fillPoly).
// Polygon filling is EVEN-ODD (OpenCV's fillPoly pairs edge crossings); `polygons` fills each
// ring separately (their union). Thickness −1 fills; > 0 draws outlines (1 px: 8-connected
// lines; thicker: quads with round caps, like OpenCV's ThickLine).
//
// Cost is bounded by the canvas, whatever the coordinates (hostile input, issue 12 item 7):
// pixel coordinates are clamped to ±COORD_LIMIT (so nothing overflows to Infinity or NaN),
// every scan loop runs over canvas rows only, and a 1-pixel line whose ends lie farther than one
// canvas size outside is clipped to that margin before Bresenham walks it (OpenCV clips too).
// A shape with V vertices costs O(V · (rows + cols) + pixels written); `rasterWork` counts the
// steps so tests can assert the bound without timing.
import { invalidParameterError } from '../../errors.ts';
import { cloneImage, createImage } from './image.ts';
import type { ChannelCount, Image, PixelArray, SampleType } from './image.ts';
import type { Annotation, NormalizedPoint, Shape } from '../annotation.ts';
import { DIGIT_HEIGHT, digitsWidth, drawDigits } from './digits.ts';
import { rleBbox } from './coco-rle.ts';

type Rgb = readonly [number, number, number];

const TABLEAU20: readonly Rgb[] = [
  [0, 0, 0],
  [31, 119, 180], [174, 199, 232], [255, 127, 14], [255, 187, 120],
  [44, 160, 44], [152, 223, 138], [214, 39, 40], [255, 152, 150],
  [148, 103, 189], [197, 176, 213], [140, 86, 75], [196, 156, 148],
  [227, 119, 194], [247, 182, 210], [127, 127, 127], [199, 199, 199],
  [188, 189, 34], [219, 219, 141], [23, 190, 207], [158, 218, 229],
];
const TABLEAU20A: readonly Rgb[] = [
  [0, 0, 0],
  [188, 189, 34], [219, 219, 141], [23, 190, 207], [158, 218, 229],
  [44, 160, 44], [152, 223, 138], [214, 39, 40], [255, 152, 150],
  [31, 119, 180], [174, 199, 232], [255, 127, 14], [255, 187, 120],
  [227, 119, 194], [247, 182, 210], [127, 127, 127], [199, 199, 199],
  [148, 103, 189], [197, 176, 213], [140, 86, 75], [196, 156, 148],
];

/**
 * v1 palettes (21 entries, index 0 black). Entries are written to canvas channels 0, 1, 2 in the
 * order listed — which, on our RGB images, shows the real Tableau colours (v1 showed them BGR-swapped).
 */
export const PALETTES: Readonly<Record<'default' | 'tableau20' | 'tableau20a', readonly Rgb[]>> = {
  default: TABLEAU20, tableau20: TABLEAU20, tableau20a: TABLEAU20A,
};
export type PaletteName = '' | keyof typeof PALETTES;

export interface RasterizeOptions {
  /** v1 `anno_type`: OpenCV type code of the canvas (depth 8U/16U/32F, 1–4 channels). Default 0 (CV_8UC1). */
  annoType?: number;
  /** v1 `anno_color1..3`: value for shapes without a `label`. Default [1, 0, 0]. */
  color?: readonly number[];
  /** v1 `anno_thickness`: −1 filled (default), > 0 outline width in pixels. */
  thickness?: number;
  /** v1 `anno_palette`: map label ids (channel 0) through a 21-colour palette. Default '' (none). */
  palette?: PaletteName;
  /** v1 `point_radius` in pixels (default 3); 0 draws a single pixel. */
  pointRadius?: number;
  /** v1 `anno_copy`: draw on a copy of this image instead of a zero canvas. */
  copyOf?: Image;
  /** v1 `anno_number`: draw each shape's 1-based index next to it, in its colour (digits.ts font). */
  numbers?: boolean;
  /**
   * Storage to draw on when it can hold the canvas (same sample type; the label then aliases it,
   * zeroed first): spares the stream a fresh zeroed canvas per sample.
   */
  into?: PixelArray;
}

/** A zero canvas of OpenCV type `annoType` (e.g. 0 = CV_8UC1, 16 = CV_8UC3, 5 = CV_32FC1). */
export function createLabelCanvas(width: number, height: number, annoType = 0, into?: PixelArray): Image {
  const depth = annoType & 7;
  const channels = (annoType >> 3) + 1;
  const type: SampleType | undefined = depth === 0 ? 'uint8' : depth === 2 ? 'uint16' : depth === 5 ? 'float32' : undefined;
  if (!Number.isInteger(annoType) || annoType < 0 || type === undefined || channels > 4) {
    throw invalidParameterError('anno_type', 'an OpenCV type code with depth CV_8U, CV_16U or CV_32F and 1-4 channels', annoType);
  }
  return createImage(width, height, channels as ChannelCount, type, into);
}

/** Pixel rectangle [left, right) × [top, bottom). */
export interface PixelBounds {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Rasterise every shape of `annotation` onto a new width × height canvas. */
export function rasterizeAnnotation(annotation: Annotation, width: number, height: number, options: RasterizeOptions = {}): Image {
  return rasterizeAnnotationTracked(annotation, width, height, options).label;
}

/**
 * rasterizeAnnotation that also returns the bounds of every pixel it wrote (null: none), so a
 * later label warp can skip the all-zero rest (warpLabel `sourceBounds`).
 */
export function rasterizeAnnotationTracked(annotation: Annotation, width: number, height: number, options: RasterizeOptions = {}): { label: Image; drawn: PixelBounds | null } {
  const { annoType = 0, color = [1, 0, 0], thickness = -1, palette = '', pointRadius = 3, copyOf, numbers = false, into } = options;
  if (!(thickness === -1 || (Number.isInteger(thickness) && thickness > 0))) {
    throw invalidParameterError('anno_thickness', '-1 (filled) or a positive integer', thickness);
  }
  if (palette !== '' && !Object.hasOwn(PALETTES, palette)) {
    throw invalidParameterError('anno_palette', 'one of "", "default", "tableau20", "tableau20a"', palette);
  }
  if (!(pointRadius >= 0)) throw invalidParameterError('point_radius', 'a non-negative number', pointRadius);
  let canvas: Image;
  if (copyOf) {
    if (copyOf.width !== width || copyOf.height !== height) throw invalidParameterError('copyOf', `an image of ${width}x${height}`, `${copyOf.width}x${copyOf.height}`);
    canvas = cloneImage(copyOf);
  } else {
    canvas = createLabelCanvas(width, height, annoType, into);
  }
  const table = palette === '' ? null : PALETTES[palette];
  const drawn: PixelBounds = { left: width, top: height, right: 0, bottom: 0 };
  const digitScale = numbers ? digitScaleFor(width, height) : 1;
  const shapes = annotation.shapes;
  for (let shapeIndex = 0; shapeIndex < shapes.length; shapeIndex++) {
    const shape = shapes[shapeIndex];
    let value: readonly number[] = shape.label === undefined ? color : typeof shape.label === 'number' ? [shape.label, 0, 0] : shape.label;
    if (table) {
      const id = Math.trunc(value[0] ?? 0);
      const index = (value[1] ?? 0) !== 0 || (value[2] ?? 0) !== 0 || id < 0 || id >= table.length ? 0 : id;
      value = table[index];
    }
    drawShape(canvas, shape, value, { thickness, pointRadius }, drawn);
    if (numbers) drawShapeNumber(canvas, shape, shapeIndex + 1, value, { pointRadius, scale: digitScale }, drawn);
  }
  return { label: canvas, drawn: drawn.right > drawn.left ? drawn : null };
}

/** Work done by the rasteriser (loop steps), for tests and benchmarks: reset it, draw, read it. */
export const rasterWork = { steps: 0 };

/** Pixel coordinates are clamped to ±this: far beyond any canvas, small enough for exact float steps. */
export const COORD_LIMIT = 2 ** 24;

function clampCoord(v: number): number {
  return v > COORD_LIMIT ? COORD_LIMIT : v < -COORD_LIMIT ? -COORD_LIMIT : v;
}

/** std::round: half away from zero (of the clamped coordinate). */
function roundHalfAway(v: number): number {
  v = clampCoord(v);
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** Draw one shape with the given per-channel value (missing channels get 0). */
export function drawShape(canvas: Image, shape: Shape, value: readonly number[], options: { thickness?: number; pointRadius?: number } = {}, drawn?: PixelBounds): void {
  const { thickness = -1, pointRadius = 3 } = options;
  const pen = new Pen(canvas, value, drawn);
  const cols = canvas.width;
  const rows = canvas.height;
  switch (shape.type) {
    case 'rect': {
      const x = roundHalfAway(cols * shape.x);
      const y = roundHalfAway(rows * shape.y);
      const w = roundHalfAway(cols * shape.width);
      const h = roundHalfAway(rows * shape.height);
      if (w <= 0 || h <= 0) return;
      if (thickness < 0) pen.fillRect(x, y, x + w - 1, y + h - 1);
      else pen.polyline([x, y, x + w - 1, y, x + w - 1, y + h - 1, x, y + h - 1], thickness);
      return;
    }
    case 'ellipse':
      pen.ellipse(clampCoord(cols * (shape.x + shape.width / 2)), clampCoord(rows * (shape.y + shape.height / 2)), clampCoord((cols * shape.width) / 2), clampCoord((rows * shape.height) / 2), thickness);
      return;
    case 'point':
      if (pointRadius === 0) pen.pixel(roundHalfAway(cols * shape.x), roundHalfAway(rows * shape.y));
      else pen.ellipse(clampCoord(cols * shape.x), clampCoord(rows * shape.y), pointRadius, pointRadius, thickness);
      return;
    case 'polygon':
      pen.polygon(toPixels(shape.points, cols, rows), thickness);
      return;
    case 'polygons':
      for (const ring of shape.rings) pen.polygon(toPixels(ring, cols, rows), thickness);
      return;
    case 'rle':
      // A mask is an area: drawn filled at any thickness, resampled nearest to the canvas.
      pen.rle(shape.runs, shape.size[0], shape.size[1]);
      return;
  }
}

/**
 * v1 `anno_number`: write `number` with the built-in digit font (digits.ts) just above the
 * shape's pixel bounding box, left-aligned with it — below the box when there is no room above,
 * inside it at the top-left when there is room for neither — clamped into the canvas. Filled
 * shapes would hide a number drawn over them in their own colour, hence outside first.
 */
export function drawShapeNumber(canvas: Image, shape: Shape, number: number, value: readonly number[], options: { pointRadius?: number; scale?: number } = {}, drawn?: PixelBounds): void {
  const { pointRadius = 3, scale = 1 } = options;
  const box = shapePixelBox(shape, canvas.width, canvas.height, pointRadius);
  const text = String(number);
  const textWidth = digitsWidth(text, scale);
  const textHeight = DIGIT_HEIGHT * scale;
  const gap = scale;
  let top: number;
  if (box.top - gap - textHeight >= 0) top = box.top - gap - textHeight;
  else if (box.bottom + 1 + gap + textHeight <= canvas.height) top = box.bottom + 1 + gap;
  else top = Math.max(0, box.top);
  const left = Math.max(0, Math.min(box.left, canvas.width - textWidth));
  const pen = new Pen(canvas, value, drawn);
  drawDigits(text, left, top, scale, (x, y, w, h) => pen.fillRect(x, y, x + w - 1, y + h - 1));
}

/** Integer glyph scale: 1 up to 199 px on the short side, then one more per 200 px. */
export function digitScaleFor(width: number, height: number): number {
  return Math.max(1, Math.floor(Math.min(width, height) / 200) + 1);
}

/** Inclusive pixel box [left, right] × [top, bottom] of a shape (unclipped; may be empty for degenerate shapes). */
function shapePixelBox(shape: Shape, cols: number, rows: number, pointRadius: number): PixelBounds {
  switch (shape.type) {
    case 'rect':
    case 'ellipse':
      return {
        left: roundHalfAway(cols * shape.x), top: roundHalfAway(rows * shape.y),
        right: roundHalfAway(cols * (shape.x + shape.width)) - 1, bottom: roundHalfAway(rows * (shape.y + shape.height)) - 1,
      };
    case 'point': {
      const x = roundHalfAway(cols * shape.x);
      const y = roundHalfAway(rows * shape.y);
      const r = Math.floor(pointRadius);
      return { left: x - r, top: y - r, right: x + r, bottom: y + r };
    }
    case 'rle': {
      const [x, y, w, h] = rleBbox({ size: shape.size, counts: shape.runs });
      const [mh, mw] = shape.size;
      return { left: Math.floor((x * cols) / mw), top: Math.floor((y * rows) / mh), right: Math.ceil(((x + w) * cols) / mw) - 1, bottom: Math.ceil(((y + h) * rows) / mh) - 1 };
    }
    case 'polygon':
    case 'polygons': {
      const xy = shape.type === 'polygon' ? toPixels(shape.points, cols, rows) : shape.rings.flatMap((ring) => toPixels(ring, cols, rows));
      const box = { left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity };
      for (let i = 0; i + 1 < xy.length; i += 2) {
        box.left = Math.min(box.left, xy[i]);
        box.right = Math.max(box.right, xy[i]);
        box.top = Math.min(box.top, xy[i + 1]);
        box.bottom = Math.max(box.bottom, xy[i + 1]);
      }
      return Number.isFinite(box.left) ? box : { left: 0, top: 0, right: 0, bottom: 0 };
    }
  }
}

function toPixels(points: NormalizedPoint[], cols: number, rows: number): number[] {
  const out: number[] = [];
  for (const p of points) out.push(roundHalfAway(p.x * cols), roundHalfAway(p.y * rows));
  return out;
}

/** Drawing primitives bound to one canvas and one value. Coordinates are pixel indices. */
class Pen {
  private readonly data: Image['data'];
  private readonly width: number;
  private readonly height: number;
  private readonly ch: number;
  private readonly value: Float64Array;
  private readonly drawn: PixelBounds | undefined;

  constructor(canvas: Image, value: readonly number[], drawn?: PixelBounds) {
    this.drawn = drawn;
    this.data = canvas.data;
    this.width = canvas.width;
    this.height = canvas.height;
    this.ch = canvas.channels;
    this.value = new Float64Array(this.ch);
    const max = canvas.data instanceof Uint8Array ? 255 : canvas.data instanceof Uint16Array ? 65535 : Infinity;
    for (let k = 0; k < this.ch; k++) {
      const v = value[k] ?? 0;
      this.value[k] = max === Infinity ? v : Math.min(max, Math.max(0, Math.round(v)));
    }
  }

  private mark(y: number, x0: number, x1: number): void {
    const d = this.drawn;
    if (d === undefined) return;
    if (x0 < d.left) d.left = x0;
    if (x1 + 1 > d.right) d.right = x1 + 1;
    if (y < d.top) d.top = y;
    if (y + 1 > d.bottom) d.bottom = y + 1;
  }

  pixel(x: number, y: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.mark(y, x, x);
    const o = (y * this.width + x) * this.ch;
    for (let k = 0; k < this.ch; k++) this.data[o + k] = this.value[k];
  }

  /** Inclusive span [x0, x1] on row y, clipped. */
  span(y: number, x0: number, x1: number): void {
    rasterWork.steps++;
    if (y < 0 || y >= this.height) return;
    const a = Math.max(0, x0);
    const b = Math.min(this.width - 1, x1);
    if (a > b) return;
    this.mark(y, a, b);
    const ch = this.ch;
    if (ch === 1) {
      this.data.fill(this.value[0], y * this.width + a, y * this.width + b + 1);
      return;
    }
    for (let o = (y * this.width + a) * ch, end = (y * this.width + b + 1) * ch; o < end; o += ch) {
      for (let k = 0; k < ch; k++) this.data[o + k] = this.value[k];
    }
  }

  fillRect(x0: number, y0: number, x1: number, y1: number): void {
    for (let y = Math.max(0, y0); y <= Math.min(this.height - 1, y1); y++) this.span(y, x0, x1);
  }

  /** 8-connected line including both ends (Bresenham); ends far outside are clipped first. */
  line(x0: number, y0: number, x1: number, y1: number): void {
    const margin = Math.max(this.width, this.height);
    const lo = -margin;
    const hiX = this.width - 1 + margin;
    const hiY = this.height - 1 + margin;
    if (x0 < lo || x0 > hiX || y0 < lo || y0 > hiY || x1 < lo || x1 > hiX || y1 < lo || y1 > hiY) {
      const clipped = clipSegment(x0, y0, x1, y1, lo, lo, hiX, hiY);
      if (clipped === null) return;
      [x0, y0, x1, y1] = clipped.map(Math.round);
    }
    const dx = Math.abs(x1 - x0);
    const dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1;
    const sy = y0 < y1 ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      rasterWork.steps++;
      this.pixel(x0, y0);
      if (x0 === x1 && y0 === y1) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  /** Filled disc: pixel centres within radius r of (cx, cy). */
  disc(cx: number, cy: number, r: number): void {
    for (let y = Math.max(0, Math.ceil(cy - r)), end = Math.min(this.height - 1, Math.floor(cy + r)); y <= end; y++) {
      rasterWork.steps++;
      const half = Math.sqrt(Math.max(0, r * r - (y - cy) * (y - cy)));
      this.span(y, Math.ceil(cx - half), Math.floor(cx + half));
    }
  }

  thickLine(x0: number, y0: number, x1: number, y1: number, thickness: number): void {
    if (thickness <= 1) {
      this.line(Math.round(x0), Math.round(y0), Math.round(x1), Math.round(y1));
      return;
    }
    const half = thickness / 2;
    const length = Math.hypot(x1 - x0, y1 - y0);
    if (length > 0) {
      const nx = (-(y1 - y0) / length) * half;
      const ny = ((x1 - x0) / length) * half;
      this.fillEvenOdd([x0 + nx, y0 + ny, x1 + nx, y1 + ny, x1 - nx, y1 - ny, x0 - nx, y0 - ny]);
    }
    this.disc(x0, y0, half);
    this.disc(x1, y1, half);
  }

  /** Closed outline through the flat [x0, y0, x1, y1, …] vertex list. */
  polyline(xy: readonly number[], thickness: number): void {
    const count = xy.length / 2;
    for (let i = 0; i < count; i++) {
      const j = (i + 1) % count;
      this.thickLine(xy[2 * i], xy[2 * i + 1], xy[2 * j], xy[2 * j + 1], thickness);
    }
  }

  polygon(xy: readonly number[], thickness: number): void {
    if (xy.length < 2) return;
    if (thickness > 0) {
      this.polyline(xy, thickness);
      return;
    }
    this.fillEvenOdd(xy);
    // fillPoly includes the boundary: the 1-px outline covers edges the centre rule leaves out.
    this.polyline(xy.map(Math.round), 1);
  }

  /** Even-odd scanline fill; row y takes pixels between paired crossings, ends rounded. */
  fillEvenOdd(xy: readonly number[]): void {
    const count = xy.length / 2;
    let minY = Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < count; i++) {
      minY = Math.min(minY, xy[2 * i + 1]);
      maxY = Math.max(maxY, xy[2 * i + 1]);
    }
    const crossings: number[] = [];
    for (let y = Math.max(0, Math.ceil(minY)); y <= Math.min(this.height - 1, Math.floor(maxY)); y++) {
      crossings.length = 0;
      rasterWork.steps += count;
      for (let i = 0; i < count; i++) {
        const ax = xy[2 * i], ay = xy[2 * i + 1];
        const j = (i + 1) % count;
        const bx = xy[2 * j], by = xy[2 * j + 1];
        // Half-open in y so a vertex shared by two edges counts once.
        if ((ay <= y && y < by) || (by <= y && y < ay)) crossings.push(ax + ((y - ay) * (bx - ax)) / (by - ay));
      }
      crossings.sort((p, q) => p - q);
      for (let k = 0; k + 1 < crossings.length; k += 2) this.span(y, Math.round(crossings[k]), Math.round(crossings[k + 1]));
    }
  }

  /**
   * A COCO run-length mask of mh × mw pixels (column-major runs, 0s first), sampled nearest:
   * canvas pixel (cx, cy) takes mask pixel (⌊(cx + ½)·mw/W⌋, ⌊(cy + ½)·mh/H⌋). Work is bounded
   * by the runs and the canvas pixels they cover, not by the mask size.
   */
  rle(runs: readonly number[], mh: number, mw: number): void {
    const W = this.width;
    const H = this.height;
    // First canvas index whose sample falls at or after source index s (of n source → N canvas).
    const firstAt = (s: number, n: number, N: number): number => Math.max(0, Math.ceil((s * N) / n - 0.5));
    let at = 0;
    for (let i = 0; i < runs.length; i++) {
      if (i % 2 === 1 && runs[i] > 0) {
        const first = at;
        const last = at + runs[i] - 1;
        const xa = Math.floor(first / mh);
        const xb = Math.floor(last / mh);
        for (let cx = firstAt(xa, mw, W); cx < Math.min(W, firstAt(xb + 1, mw, W)); cx++) {
          const x = Math.min(mw - 1, Math.floor(((cx + 0.5) * mw) / W));
          const ys = x === xa ? first - xa * mh : 0;
          const ye = x === xb ? last - xb * mh : mh - 1;
          for (let cy = firstAt(ys, mh, H); cy < Math.min(H, firstAt(ye + 1, mh, H)); cy++) this.pixel(cx, cy);
        }
      }
      at += runs[i];
    }
  }

  /** Axis-aligned ellipse as OpenCV's ellipse2Poly polygon (5° steps for large ellipses). */
  ellipse(cx: number, cy: number, ax: number, ay: number, thickness: number): void {
    const size = Math.round(Math.max(ax, ay));
    const step = size < 3 ? 90 : size < 10 ? 30 : size < 15 ? 18 : 5;
    const xy: number[] = [];
    for (let deg = 0; deg < 360; deg += step) {
      const t = (deg * Math.PI) / 180;
      xy.push(cx + ax * Math.cos(t), cy + ay * Math.sin(t));
    }
    if (thickness > 0) this.polyline(xy, thickness);
    else {
      this.fillEvenOdd(xy);
      this.polyline(xy.map(Math.round), 1);
    }
  }
}

/**
 * Liang–Barsky: the part of segment (x0, y0)–(x1, y1) inside [left, right] × [top, bottom], or
 * null when none is.
 */
export function clipSegment(x0: number, y0: number, x1: number, y1: number, left: number, top: number, right: number, bottom: number): [number, number, number, number] | null {
  const dx = x1 - x0;
  const dy = y1 - y0;
  let t0 = 0;
  let t1 = 1;
  const edges: Array<[number, number]> = [[-dx, x0 - left], [dx, right - x0], [-dy, y0 - top], [dy, bottom - y0]];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return null; // parallel and outside
      continue;
    }
    const t = q / p;
    if (p < 0) {
      if (t > t1) return null;
      if (t > t0) t0 = t;
    } else {
      if (t < t0) return null;
      if (t < t1) t1 = t;
    }
  }
  return [x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy];
}
