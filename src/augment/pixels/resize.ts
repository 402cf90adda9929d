// Resizing on typed arrays: bilinear for images (OpenCV INTER_LINEAR sampling: half-pixel
// centres, edge clamp, 11-bit fixed-point weights for 8-bit), nearest for label images (never
// interpolates label values), and the v1 target-size rules (resize_width/height, min/max_size).
// Column indices and weights are precomputed once per call; the inner loops allocate nothing.
import { invalidParameterError } from '../../errors.ts';
import { allocPixels, sampleTypeOf } from './image.ts';
import type { Image } from './image.ts';

export interface ResizeTargetOptions {
  /** v1 `resize_width`/`resize_height`: both > 0 → exactly this size. */
  resizeWidth?: number;
  resizeHeight?: number;
  /** v1 `min_size`/`max_size` (> 0 to enable): shrink so the long side ≤ max, then enlarge so the short side ≥ min. */
  minSize?: number;
  maxSize?: number;
}

/** The v1 load-time size (picpac-cv.cpp LimitSize, integer arithmetic included). */
export function resizeTarget(width: number, height: number, options: ResizeTargetOptions = {}): { width: number; height: number } {
  const { resizeWidth = -1, resizeHeight = -1, minSize = -1, maxSize = -1 } = options;
  if (resizeWidth > 0 && resizeHeight > 0) return { width: resizeWidth, height: resizeHeight };
  if (width === 0 || height === 0) return { width, height };
  let w = width;
  let h = height;
  const longSide = Math.max(w, h);
  if (maxSize > 0 && longSide > maxSize) {
    w = Math.trunc((w * maxSize) / longSide);
    h = Math.trunc((h * maxSize) / longSide);
  }
  const shortSide = Math.min(w, h);
  if (minSize > 0 && shortSide < minSize && shortSide > 0) {
    w = Math.trunc((w * minSize) / shortSide);
    h = Math.trunc((h * minSize) / shortSide);
  }
  return { width: w, height: h };
}

/** Source rectangle to resample (default: the whole image). Used by anno_min_ratio's zoom. */
export interface SourceRegion {
  left: number;
  top: number;
  width: number;
  height: number;
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || width <= 0) throw invalidParameterError('width', 'a positive integer', width);
  if (!Number.isInteger(height) || height <= 0) throw invalidParameterError('height', 'a positive integer', height);
}

function wholeImage(image: Image, region?: SourceRegion): SourceRegion {
  const r = region ?? { left: 0, top: 0, width: image.width, height: image.height };
  if (r.left < 0 || r.top < 0 || r.width <= 0 || r.height <= 0 || r.left + r.width > image.width || r.top + r.height > image.height) {
    throw invalidParameterError('region', `a rectangle inside ${image.width}x${image.height}`, r);
  }
  return r;
}

const COEF_BITS = 11;
const COEF_ONE = 1 << COEF_BITS;

/** OpenCV INTER_LINEAR tap positions along one axis: first index and fixed-point weight of the second. */
function linearTaps(dst: number, srcStart: number, srcSize: number): { index: Int32Array; weight: Int32Array; weightF: Float32Array } {
  const index = new Int32Array(dst);
  const weight = new Int32Array(dst);
  const weightF = new Float32Array(dst);
  const scale = srcSize / dst;
  for (let d = 0; d < dst; d++) {
    const s = (d + 0.5) * scale - 0.5;
    let i = Math.floor(s);
    let f = s - i;
    if (i < 0) {
      i = 0;
      f = 0;
    }
    if (i >= srcSize - 1) {
      i = srcSize - 1;
      f = 0;
    }
    index[d] = srcStart + i;
    weight[d] = Math.round(f * COEF_ONE);
    weightF[d] = f;
  }
  return { index, weight, weightF };
}

/** Bilinear resize (images). Same sample type and channels; `region` crops the source first. */
export function resizeBilinear(image: Image, width: number, height: number, region?: SourceRegion): Image {
  checkSize(width, height);
  const r = wholeImage(image, region);
  const ch = image.channels;
  const src = image.data;
  const out = allocPixels(sampleTypeOf(src), width * height * ch);
  const xs = linearTaps(width, r.left, r.width);
  const ys = linearTaps(height, r.top, r.height);
  const rowStride = image.width * ch;
  // The second tap of the last column/row has weight 0; keep it in bounds.
  const lastColumn = r.left + r.width - 1;
  const lastRow = r.top + r.height - 1;
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    x0[x] = xs.index[x] * ch;
    x1[x] = Math.min(xs.index[x] + 1, lastColumn) * ch;
  }
  let o = 0;
  for (let y = 0; y < height; y++) {
    const yi = ys.index[y];
    const row0 = yi * rowStride;
    const row1 = Math.min(yi + 1, lastRow) * rowStride;
    if (src instanceof Uint8Array) {
      const wy = ys.weight[y];
      const wy0 = COEF_ONE - wy;
      for (let x = 0; x < width; x++) {
        const wx = xs.weight[x];
        const wx0 = COEF_ONE - wx;
        const a = row0 + x0[x];
        const b = row0 + x1[x];
        const c = row1 + x0[x];
        const d = row1 + x1[x];
        for (let k = 0; k < ch; k++) {
          const top = src[a + k] * wx0 + src[b + k] * wx;
          const bottom = src[c + k] * wx0 + src[d + k] * wx;
          out[o++] = (top * wy0 + bottom * wy + (1 << 21)) >> 22;
        }
      }
    } else {
      const fy = ys.weightF[y];
      const round = src instanceof Uint16Array;
      for (let x = 0; x < width; x++) {
        const fx = xs.weightF[x];
        const a = row0 + x0[x];
        const b = row0 + x1[x];
        const c = row1 + x0[x];
        const d = row1 + x1[x];
        for (let k = 0; k < ch; k++) {
          const top = src[a + k] + (src[b + k] - src[a + k]) * fx;
          const bottom = src[c + k] + (src[d + k] - src[c + k]) * fx;
          const v = top + (bottom - top) * fy;
          out[o++] = round ? Math.round(v) : v;
        }
      }
    }
  }
  return { width, height, channels: ch, data: out };
}

/**
 * Nearest-neighbour resize (label images): pixel-centre sampling, floor((d + 0.5) · src/dst),
 * so it lines up with the bilinear image resize. Only existing label values are ever produced.
 */
export function resizeNearest(image: Image, width: number, height: number, region?: SourceRegion): Image {
  checkSize(width, height);
  const r = wholeImage(image, region);
  const ch = image.channels;
  const src = image.data;
  const out = allocPixels(sampleTypeOf(src), width * height * ch);
  const xOffset = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    xOffset[x] = (r.left + Math.min(r.width - 1, Math.floor(((x + 0.5) * r.width) / width))) * ch;
  }
  const rowStride = image.width * ch;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const row = (r.top + Math.min(r.height - 1, Math.floor(((y + 0.5) * r.height) / height))) * rowStride;
    if (ch === 1) {
      for (let x = 0; x < width; x++) out[o++] = src[row + xOffset[x]];
    } else {
      for (let x = 0; x < width; x++) {
        const s = row + xOffset[x];
        for (let k = 0; k < ch; k++) out[o++] = src[s + k];
      }
    }
  }
  return { width, height, channels: ch, data: out };
}
