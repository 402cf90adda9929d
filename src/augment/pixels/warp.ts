// Geometry: the v1 perturbation chain rotate → scale → flip → crop-or-pad → round_div crop,
// composed into ONE inverse affine map (output pixel → source position) and applied in a single
// pass. Image and label go through the same GeometryPlan, so they cannot drift apart (STYLE §7):
// images are sampled bilinearly, labels with nearest neighbour (label values are never mixed —
// the original v2's bilinear-label bug is not reproduced).
//
// Conventions (OpenCV's): pixel (i, j) has its centre at integer coordinates; rotation is about
// (cols/2, rows/2) in integer division, positive angles turn the picture counter-clockwise, the
// rotated canvas keeps its size with a constant-0 border; the scale step maps centres like
// cv::resize ((u + 0.5) / s − 0.5) and makes the canvas round(W·s) × round(H·s). The source is
// extended by half a pixel with its edge value (cv::resize clamps there) and by zeros beyond.
// Pixels outside the scaled canvas (crop padding) are "outside the frame": always 0, and the
// colour jitter (which v1 applies before cropping) skips them.
import { invalidParameterError, outOfRangeError } from '../../errors.ts';
import { pixelStorage, sampleTypeOf, zeroedPixels } from './image.ts';
import { FIX, bilinear8, bilinearFloat, nearestRowRun } from './warp-kernels.ts';
import { bilinear8c3Wasm, nearest8c1Wasm } from './warp-simd.ts';
import type { Image, PixelArray } from './image.ts';

/** Output → source affine: srcX = m[0]·x + m[1]·y + m[2], srcY = m[3]·x + m[4]·y + m[5]. */
export type Affine = readonly [number, number, number, number, number, number];

export interface GeometryPlan {
  /** Output size. */
  width: number;
  height: number;
  /** Size of the source the plan was made for (images and labels must match it). */
  sourceWidth: number;
  sourceHeight: number;
  inverse: Affine;
  /** Output pixels [left, right) × [top, bottom) lie on the transformed canvas; the rest is padding. */
  frame: { left: number; top: number; right: number; bottom: number };
}

export interface GeometryOptions {
  /** Rotation in degrees (counter-clockwise), about (cols/2, rows/2). Default 0. */
  angle?: number;
  /** Isotropic scale; the canvas becomes round(W·scale) × round(H·scale). Default 1. */
  scale?: number;
  hflip?: boolean;
  vflip?: boolean;
  /** v1 crop_width/crop_height (both > 0 to enable): crop, or zero-pad when the canvas is smaller. */
  cropWidth?: number;
  cropHeight?: number;
  /** v1 round_div/round_mod: crop so each side is k·roundDiv + roundMod (largest that fits). */
  roundDiv?: number;
  roundMod?: number;
  /** true: offsets from shiftX/shiftY (v1 perturb); false: centred. */
  randomOffsets?: boolean;
  /** Raw RNG words (u32) for the crop offsets (v1 PerturbVector shiftx/shifty). */
  shiftX?: number;
  shiftY?: number;
}

const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];

/** (p ∘ q)(v) = p(q(v)). */
function compose(p: Affine, q: Affine): Affine {
  return [
    p[0] * q[0] + p[1] * q[3], p[0] * q[1] + p[1] * q[4], p[0] * q[2] + p[1] * q[5] + p[2],
    p[3] * q[0] + p[4] * q[3], p[3] * q[1] + p[4] * q[4], p[3] * q[2] + p[4] * q[5] + p[5],
  ];
}

/** v1 crop offset along one axis: margin = canvas − crop (negative → padding). */
function cropOffset(margin: number, random: boolean, shift: number): number {
  if (!random) return Math.trunc(margin / 2);
  if (margin > 0) return shift % margin; // v1: `shift % margin` (the last offset is never drawn)
  if (margin < 0) return -(shift % (1 - margin));
  return 0; // v1 divided by zero here
}

function roundDivSize(size: number, div: number, mod: number): number {
  let s = Math.floor(size / div) * div + mod;
  if (s > size) s -= div;
  if (s <= 0) throw outOfRangeError('round_div', `a divisor leaving a positive size for ${size} pixels (round_mod ${mod})`, div);
  return s;
}

/** Compose the v1 perturbation geometry for a source of the given size. */
export function planGeometry(sourceWidth: number, sourceHeight: number, options: GeometryOptions = {}): GeometryPlan {
  const {
    angle = 0, scale = 1, hflip = false, vflip = false, cropWidth = -1, cropHeight = -1,
    roundDiv = 0, roundMod = 0, randomOffsets = false, shiftX = 0, shiftY = 0,
  } = options;
  if (!Number.isFinite(angle)) throw invalidParameterError('angle', 'a finite number of degrees', angle);
  if (!(scale > 0) || !Number.isFinite(scale)) throw outOfRangeError('scale', 'a positive finite number', scale);
  // Step 4 (applied last when mapping back): undo the rotation.
  let inverse: Affine = IDENTITY;
  if (angle !== 0) {
    const cx = Math.trunc(sourceWidth / 2);
    const cy = Math.trunc(sourceHeight / 2);
    const t = (angle * Math.PI) / 180;
    const cos = Math.cos(t);
    const sin = Math.sin(t);
    // Forward (getRotationMatrix2D): d − c = [[cos, sin], [−sin, cos]](s − c); inverse = transpose.
    inverse = [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy];
  }
  // Step 3: undo the scale (cv::resize centre mapping).
  let width = sourceWidth;
  let height = sourceHeight;
  if (scale !== 1) {
    width = Math.max(1, Math.round(sourceWidth * scale));
    height = Math.max(1, Math.round(sourceHeight * scale));
    const k = 1 / scale;
    inverse = compose(inverse, [k, 0, 0.5 * k - 0.5, 0, k, 0.5 * k - 0.5]);
  }
  const canvasWidth = width;
  const canvasHeight = height;
  // Step 2: undo the flips.
  if (hflip || vflip) {
    inverse = compose(inverse, [hflip ? -1 : 1, 0, hflip ? canvasWidth - 1 : 0, 0, vflip ? -1 : 1, vflip ? canvasHeight - 1 : 0]);
  }
  // Step 1: crop-or-pad, then round_div; both are translations of the output window.
  let offsetX = 0;
  let offsetY = 0;
  if (cropWidth > 0 && cropHeight > 0) {
    offsetX += cropOffset(width - cropWidth, randomOffsets, shiftX >>> 0);
    offsetY += cropOffset(height - cropHeight, randomOffsets, shiftY >>> 0);
    width = cropWidth;
    height = cropHeight;
  }
  if (roundDiv > 0) {
    const w = roundDivSize(width, roundDiv, roundMod);
    const h = roundDivSize(height, roundDiv, roundMod);
    offsetX += randomOffsets ? (shiftX >>> 0) % (width - w + 1) : Math.trunc((width - w) / 2);
    offsetY += randomOffsets ? (shiftY >>> 0) % (height - h + 1) : Math.trunc((height - h) / 2);
    width = w;
    height = h;
  }
  if (offsetX !== 0 || offsetY !== 0) inverse = compose(inverse, [1, 0, offsetX, 0, 1, offsetY]);
  const frame = {
    left: Math.max(0, -offsetX), top: Math.max(0, -offsetY),
    right: Math.min(width, canvasWidth - offsetX), bottom: Math.min(height, canvasHeight - offsetY),
  };
  return { width, height, sourceWidth, sourceHeight, inverse, frame };
}

/** A plan that crops (or zero-pads) the window [left, left+width) × [top, top+height). */
export function planCrop(sourceWidth: number, sourceHeight: number, window: { left: number; top: number; width: number; height: number }): GeometryPlan {
  const { left, top, width, height } = window;
  return {
    width, height, sourceWidth, sourceHeight, inverse: [1, 0, left, 0, 1, top],
    frame: { left: Math.max(0, -left), top: Math.max(0, -top), right: Math.min(width, sourceWidth - left), bottom: Math.min(height, sourceHeight - top) },
  };
}

function checkPlan(image: Image, plan: GeometryPlan): void {
  if (image.width !== plan.sourceWidth || image.height !== plan.sourceHeight) {
    throw invalidParameterError('image', `an image of ${plan.sourceWidth}x${plan.sourceHeight} (the plan's source)`, `${image.width}x${image.height}`);
  }
}

/** Integer translation with optional ±1 axes: a plain copy, exact for images and labels alike. */
function isCopy(m: Affine): boolean {
  return m[1] === 0 && m[3] === 0 && (m[0] === 1 || m[0] === -1) && (m[4] === 1 || m[4] === -1) &&
    Number.isInteger(m[2]) && Number.isInteger(m[5]);
}

function copyWarp(image: Image, plan: GeometryPlan, out: Image, lut: Uint8Array | undefined): Image {
  const { inverse: m, frame } = plan;
  const ch = image.channels;
  const src = image.data;
  const dst = out.data;
  const sw = image.width;
  const count = frame.right - frame.left;
  for (let y = frame.top; y < frame.bottom; y++) {
    const sy = m[4] * y + m[5];
    const o = (y * plan.width + frame.left) * ch;
    if (m[0] === 1) {
      const s = (sy * sw + frame.left + m[2]) * ch;
      if (lut === undefined) dst.set(src.subarray(s, s + count * ch), o);
      else for (let i = 0; i < count * ch; i++) dst[o + i] = lut[((i % ch) << 8) + src[s + i]];
    } else if (ch === 3 && lut === undefined) {
      // Mirrored row, unrolled for the common RGB case.
      let s = (sy * sw + (m[2] - frame.left)) * 3;
      for (let i = o, end = o + count * 3; i < end; i += 3, s -= 3) {
        dst[i] = src[s];
        dst[i + 1] = src[s + 1];
        dst[i + 2] = src[s + 2];
      }
    } else {
      let s = (sy * sw + (m[2] - frame.left)) * ch;
      for (let i = o, end = o + count * ch; i < end; i += ch, s -= ch) {
        for (let k = 0; k < ch; k++) dst[i + k] = lut === undefined ? src[s + k] : lut[(k << 8) + src[s + k]];
      }
    }
  }
  return out;
}

export interface WarpImageOptions {
  /**
   * 8-bit images only: a per-channel value map applied to every output pixel inside the frame
   * (channel k, value v → lut[k·256 + v]); fuses an additive colour jitter into the warp pass.
   */
  lut?: Uint8Array;
  /**
   * Storage for the output pixels, used when it is at least the output's length and of the
   * image's sample type (the result then aliases it; it is zeroed first): saves a fresh zeroed
   * allocation per sample on the stream's hot path, where nothing keeps the warped image.
   */
  into?: PixelArray;
}

/** `into` when it can hold `length` samples of `image`'s type (zeroed), else a fresh array. */
function outputPixels(data: PixelArray, length: number, into: PixelArray | undefined): PixelArray {
  return zeroedPixels(sampleTypeOf(data), length, into);
}

/** Apply a plan to an image with bilinear sampling. */
export function warpImage(image: Image, plan: GeometryPlan, options: WarpImageOptions = {}): Image {
  checkPlan(image, plan);
  const { lut } = options;
  if (lut !== undefined && (!(image.data instanceof Uint8Array) || lut.length < image.channels * 256)) {
    throw invalidParameterError('lut', `a Uint8Array of ${image.channels * 256} entries for an 8-bit image`, lut);
  }
  const length = plan.width * plan.height * image.channels;
  const copy = isCopy(plan.inverse);
  const fixedPoint = Math.max(image.width, image.height, plan.width, plan.height) <= 4096;
  if (!copy && image.data instanceof Uint8Array && image.channels === 3 && fixedPoint) {
    // 8-bit RGB: the WebAssembly SIMD kernel when available (bit-identical), which writes every
    // output byte (no zeroing first), else the JS one.
    const data = pixelStorage('uint8', length, options.into) as Uint8Array;
    if (!bilinear8c3Wasm(image.data, image.width, image.height, plan, data, lut)) {
      data.fill(0);
      bilinear8(image.data, image.width, image.height, 3, plan, data, lut, true);
    }
    return { width: plan.width, height: plan.height, channels: 3, data };
  }
  const out: Image = { width: plan.width, height: plan.height, channels: image.channels, data: outputPixels(image.data, length, options.into) };
  if (copy) return copyWarp(image, plan, out, lut);
  if (image.data instanceof Uint8Array) {
    bilinear8(image.data, image.width, image.height, image.channels, plan, out.data as Uint8Array, lut, fixedPoint);
  } else {
    bilinearFloat(image.data, image.width, image.height, image.channels, plan, out.data, image.data instanceof Uint16Array);
  }
  return out;
}

export interface WarpLabelOptions {
  /**
   * Source rectangle outside which the label is known to be all zero (e.g. the shapes' box):
   * only output pixels that can map into it are visited. Default: the whole label.
   */
  sourceBounds?: { left: number; top: number; right: number; bottom: number };
  /** Storage for the output, as for warpImage. */
  into?: PixelArray;
}

/** Output rectangle that the source rectangle can reach, clipped to the frame. */
function reachableFrame(plan: GeometryPlan, bounds: { left: number; top: number; right: number; bottom: number }): GeometryPlan['frame'] {
  const m = plan.inverse;
  const a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
  const det = a * e - b * d;
  if (det === 0) return plan.frame;
  // Forward map = inverse of the plan's output → source affine.
  const fa = e / det, fb = -b / det, fd = -d / det, fe = a / det;
  const fc = -(fa * c + fb * f), ff = -(fd * c + fe * f);
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let corner = 0; corner < 4; corner++) {
    const x = corner & 1 ? bounds.right : bounds.left - 1;
    const y = corner & 2 ? bounds.bottom : bounds.top - 1;
    const ox = fa * x + fb * y + fc;
    const oy = fd * x + fe * y + ff;
    minX = Math.min(minX, ox); maxX = Math.max(maxX, ox);
    minY = Math.min(minY, oy); maxY = Math.max(maxY, oy);
  }
  const { frame } = plan;
  return {
    left: Math.max(frame.left, Math.floor(minX) - 1), top: Math.max(frame.top, Math.floor(minY) - 1),
    right: Math.min(frame.right, Math.ceil(maxX) + 2), bottom: Math.min(frame.bottom, Math.ceil(maxY) + 2),
  };
}

/** Apply a plan to a label image with nearest-neighbour sampling (values are only copied). */
export function warpLabel(label: Image, plan: GeometryPlan, options: WarpLabelOptions = {}): Image {
  checkPlan(label, plan);
  const ch = label.channels;
  const out: Image = { width: plan.width, height: plan.height, channels: ch, data: outputPixels(label.data, plan.width * plan.height * ch, options.into) };
  if (isCopy(plan.inverse)) return copyWarp(label, plan, out, undefined);
  const m = plan.inverse;
  const a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
  const { left, top, right, bottom } = options.sourceBounds ? reachableFrame(plan, options.sourceBounds) : plan.frame;
  if (left >= right || top >= bottom) return out;
  const src = label.data;
  const dst = out.data;
  const sw = label.width;
  const sh = label.height;
  if (Math.max(sw, sh, plan.width, plan.height) <= 4096) {
    if (ch === 1 && src instanceof Uint8Array && dst instanceof Uint8Array && nearest8c1Wasm(src, sw, sh, plan, { left, top, right, bottom }, dst)) return out;
    // 16.16 fixed point; only the run of pixels whose source is inside the label is visited.
    const stepX = Math.round(a * FIX) | 0;
    const stepY = Math.round(d * FIX) | 0;
    for (let y = top; y < bottom; y++) {
      const run = nearestRowRun(plan.inverse, left, right, y, sw, sh, stepX, stepY);
      if (run === undefined) continue;
      const { lo, hi } = run;
      let { fx, fy } = run;
      let o = (y * plan.width + left + lo) * ch;
      if (ch === 1) {
        for (let n = hi - lo; n > 0; n--, o++) {
          dst[o] = src[(fy >> 16) * sw + (fx >> 16)];
          fx = (fx + stepX) | 0;
          fy = (fy + stepY) | 0;
        }
      } else {
        for (let n = hi - lo; n > 0; n--, o += ch) {
          const s = ((fy >> 16) * sw + (fx >> 16)) * ch;
          for (let k = 0; k < ch; k++) dst[o + k] = src[s + k];
          fx = (fx + stepX) | 0;
          fy = (fy + stepY) | 0;
        }
      }
    }
    return out;
  }
  for (let y = top; y < bottom; y++) {
    let o = (y * plan.width + left) * ch;
    for (let x = left; x < right; x++, o += ch) {
      const xi = Math.floor(a * x + b * y + c + 0.5);
      const yi = Math.floor(d * x + e * y + f + 0.5);
      if (xi < 0 || yi < 0 || xi >= sw || yi >= sh) continue;
      const s = (yi * sw + xi) * ch;
      for (let k = 0; k < ch; k++) dst[o + k] = src[s + k];
    }
  }
  return out;
}

/** Flip horizontally and/or vertically (an exact copy; the same plan serves image and label). */
export function flipImage(image: Image, options: { horizontal?: boolean; vertical?: boolean }): Image {
  return warpImage(image, planGeometry(image.width, image.height, { hflip: options.horizontal, vflip: options.vertical }));
}

/** Copy the window at (left, top) of the given size; parts outside the image are zero. */
export function cropOrPad(image: Image, window: { left: number; top: number; width: number; height: number }): Image {
  return warpLabel(image, planCrop(image.width, image.height, window));
}
