// Bilinear sampling kernels behind warp.ts (split out to keep each file one concern). They
// take the plan's output → source affine and write only inside the plan's frame; the caller
// allocates a zeroed output, so padding stays 0.
//
// These functions (and their callers in warp.ts and warp-simd.ts) read `plan.inverse` by index
// and loop over corners with a counter: array destructuring and for-of over array literals
// compile into the iterator protocol, which made every stream worker's optimising compile of
// them several times longer (docs/performance.md, "Compiling less").

/** What a kernel needs from warp.ts's GeometryPlan (structural, so this file imports nothing). */
export interface SamplingPlan {
  width: number;
  inverse: readonly [number, number, number, number, number, number];
  frame: { left: number; top: number; right: number; bottom: number };
}

// Bilinear kernels. 8-bit images use 16.16 fixed-point source coordinates stepped by integer
// adds and 8-bit weights, so the interior loop is integer-only; pixels whose four taps are not
// all inside the source take edgeSample8 (half-pixel edge clamp like cv::resize, zeros beyond).

export const FIX = 65536;

// The indices k with 0 ≤ f0 + k·step < upper are [spanLo, spanHi) (unclamped). Exact: every
// term is an integer below 2^31, so a double quotient never rounds across an integer. Along an
// output row the 16.16 coordinates are linear in x, so the pixels that map inside the source are
// one run whose bounds these give without a test per pixel.
export function spanLo(f0: number, step: number, upper: number): number {
  if (step === 0) return f0 >= 0 && f0 < upper ? -Infinity : Infinity;
  // 0 − f0, not −f0, and + 0 after Math.ceil: no −0 anywhere (−f0 of f0 = 0, Math.ceil(−0.3)).
  // Optimised callers treat these values as integers, and a −0 throws their compiled code away
  // (a "minus zero" deoptimisation and a recompile in every worker).
  return (step > 0 ? Math.ceil((0 - f0) / step) : Math.ceil((upper - 1 - f0) / step)) + 0;
}

export function spanHi(f0: number, step: number, upper: number): number {
  if (step === 0) return f0 >= 0 && f0 < upper ? Infinity : -Infinity;
  return (step > 0 ? Math.floor((upper - 1 - f0) / step) : Math.floor((0 - f0) / step)) + 1;
}

/** One output row's run of nearest-neighbour samples inside the source (see nearestRowRun). */
export interface NearestRun {
  /** Columns left + lo … left + hi − 1 of the row. */
  lo: number;
  hi: number;
  /** 16.16 source coordinates of column left + lo (+ 0.5 already in: floor = nearest). */
  fx: number;
  fy: number;
}

/**
 * The pixels of output row `y` (columns left … right − 1) whose nearest source pixel lies in a
 * sw × sh source, under `inverse` with 16.16 steps (stepX, stepY): one run, or undefined when
 * none. The label warp's rule (warp.ts warpLabel and its wasm twin share it): + 0.5 then floor
 * = round to the nearest source pixel centre.
 */
export function nearestRowRun(inverse: readonly number[], left: number, right: number, y: number, sw: number, sh: number, stepX: number, stepY: number): NearestRun | undefined {
  const a = inverse[0], b = inverse[1], c = inverse[2], d = inverse[3], e = inverse[4], f = inverse[5];
  const fx0 = Math.round((a * left + b * y + c + 0.5) * FIX) | 0;
  const fy0 = Math.round((d * left + e * y + f + 0.5) * FIX) | 0;
  const lo = Math.max(spanLo(fx0, stepX, sw * FIX), spanLo(fy0, stepY, sh * FIX), 0);
  const hi = Math.min(spanHi(fx0, stepX, sw * FIX), spanHi(fy0, stepY, sh * FIX), right - left);
  if (hi <= lo) return undefined;
  return { lo, hi, fx: (fx0 + lo * stepX) | 0, fy: (fy0 + lo * stepY) | 0 };
}

const IDENTITY_LUT3 = new Uint8Array(768).map((_, i) => i & 255);

export function bilinear8(src: Uint8Array, sw: number, sh: number, ch: number, plan: SamplingPlan, dst: Uint8Array, lut: Uint8Array | undefined, fixedPoint: boolean): void {
  if (ch === 3 && fixedPoint) {
    bilinear8c3(src, sw, sh, plan, dst, lut ?? IDENTITY_LUT3);
    return;
  }
  // Generic channel count (and images too large for 16.16 coordinates): per-pixel float path.
  const m = plan.inverse;
  const a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
  const { left, top, right, bottom } = plan.frame;
  for (let y = top; y < bottom; y++) {
    const rowX = b * y + c;
    const rowY = e * y + f;
    for (let x = left, o = (y * plan.width + left) * ch; x < right; x++, o += ch) {
      edgeSample8(src, sw, sh, ch, a * x + rowX, d * x + rowY, dst, o, lut);
    }
  }
}

/**
 * The hot kernel: 3 channels, 16.16 fixed-point coordinates, colour table fused into the store.
 * warp-simd.ts (WebAssembly SIMD) reproduces it bit for bit; keep the two in step.
 */
function bilinear8c3(src: Uint8Array, sw: number, sh: number, plan: SamplingPlan, dst: Uint8Array, lut: Uint8Array): void {
  const m = plan.inverse;
  const a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
  const { left, top, right, bottom } = plan.frame;
  const maxX = sw - 1;
  const maxY = sh - 1;
  const stride = sw * 3;
  const stepX = Math.round(a * FIX) | 0;
  const stepY = Math.round(d * FIX) | 0;
  const zero0 = lut[0];
  const zero1 = lut[256];
  const zero2 = lut[512];
  for (let y = top; y < bottom; y++) {
    let fx = Math.round((a * left + b * y + c) * FIX) | 0;
    let fy = Math.round((d * left + e * y + f) * FIX) | 0;
    let o = (y * plan.width + left) * 3;
    for (let x = left; x < right; x++, o += 3) {
      const x0 = fx >> 16;
      const y0 = fy >> 16;
      const wx = (fx >> 8) & 255;
      const wy = (fy >> 8) & 255;
      fx = (fx + stepX) | 0;
      fy = (fy + stepY) | 0;
      if ((x0 >>> 0) < maxX && (y0 >>> 0) < maxY) {
        const wx0 = 256 - wx;
        const wy0 = 256 - wy;
        const p = y0 * stride + x0 * 3;
        const q = p + stride;
        dst[o] = lut[((src[p] * wx0 + src[p + 3] * wx) * wy0 + (src[q] * wx0 + src[q + 3] * wx) * wy + 32768) >> 16];
        dst[o + 1] = lut[256 + (((src[p + 1] * wx0 + src[p + 4] * wx) * wy0 + (src[q + 1] * wx0 + src[q + 4] * wx) * wy + 32768) >> 16)];
        dst[o + 2] = lut[512 + (((src[p + 2] * wx0 + src[p + 5] * wx) * wy0 + (src[q + 2] * wx0 + src[q + 5] * wx) * wy + 32768) >> 16)];
      } else if (x0 < -1 || y0 < -1 || x0 > maxX || y0 > maxY) {
        // Wholly outside the source (rotation corners): the border value, jittered like v1.
        dst[o] = zero0;
        dst[o + 1] = zero1;
        dst[o + 2] = zero2;
      } else {
        edgeSample8(src, sw, sh, 3, x0 + wx / 256, y0 + wy / 256, dst, o, lut);
      }
    }
  }
}

/** A coordinate within half a pixel outside [0, max] samples the edge pixel itself. */
function snapToEdge(p: number, max: number): number {
  if (p < 0 && p >= -0.5) return 0;
  if (p > max && p <= max + 0.5) return max;
  return p;
}

function edgeSample8(src: Uint8Array, sw: number, sh: number, ch: number, px: number, py: number, dst: Uint8Array, o: number, lut: Uint8Array | undefined): void {
  const maxX = sw - 1;
  const maxY = sh - 1;
  px = snapToEdge(px, maxX);
  py = snapToEdge(py, maxY);
  const x0 = Math.floor(px);
  const y0 = Math.floor(py);
  const wx = Math.round((px - x0) * 256);
  const wy = Math.round((py - y0) * 256);
  const inside = x0 >= -1 && y0 >= -1 && x0 <= maxX && y0 <= maxY;
  for (let k = 0; k < ch; k++) {
    let v = 0;
    if (inside) {
      const p00 = tap(src, sw, sh, ch, x0, y0, k);
      const p01 = tap(src, sw, sh, ch, x0 + 1, y0, k);
      const p10 = tap(src, sw, sh, ch, x0, y0 + 1, k);
      const p11 = tap(src, sw, sh, ch, x0 + 1, y0 + 1, k);
      v = ((p00 * (256 - wx) + p01 * wx) * (256 - wy) + (p10 * (256 - wx) + p11 * wx) * wy + 32768) >> 16;
    }
    dst[o + k] = lut === undefined ? v : lut[(k << 8) + v];
  }
}

export function bilinearFloat(src: Uint16Array | Float32Array, sw: number, sh: number, ch: number, plan: SamplingPlan, dst: Uint8Array | Uint16Array | Float32Array, round: boolean): void {
  const m = plan.inverse;
  const a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
  const { left, top, right, bottom } = plan.frame;
  const maxX = sw - 1;
  const maxY = sh - 1;
  for (let y = top; y < bottom; y++) {
    let sx = a * left + b * y + c;
    let sy = d * left + e * y + f;
    let o = (y * plan.width + left) * ch;
    for (let x = left; x < right; x++, sx += a, sy += d, o += ch) {
      const px = snapToEdge(sx, maxX);
      const py = snapToEdge(sy, maxY);
      const x0 = Math.floor(px);
      const y0 = Math.floor(py);
      if (x0 < -1 || y0 < -1 || x0 > maxX || y0 > maxY) continue;
      const fx = px - x0;
      const fy = py - y0;
      for (let k = 0; k < ch; k++) {
        const p00 = tap(src, sw, sh, ch, x0, y0, k);
        const p01 = tap(src, sw, sh, ch, x0 + 1, y0, k);
        const p10 = tap(src, sw, sh, ch, x0, y0 + 1, k);
        const p11 = tap(src, sw, sh, ch, x0 + 1, y0 + 1, k);
        const topV = p00 + (p01 - p00) * fx;
        const v = topV + (p10 + (p11 - p10) * fx - topV) * fy;
        dst[o + k] = round ? Math.round(v) : v;
      }
    }
  }
}

function tap(src: Uint8Array | Uint16Array | Float32Array, sw: number, sh: number, ch: number, x: number, y: number, k: number): number {
  return x < 0 || y < 0 || x >= sw || y >= sh ? 0 : src[(y * sw + x) * ch + k];
}

