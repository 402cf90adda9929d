// WebAssembly SIMD driver for the hot warp: 8-bit RGB, 16.16 fixed point, bit-identical to
// warp-kernels.ts's bilinear8c3 (+ edgeSample8). Along an output row the coordinates are linear
// in x, so the pixels fall into contiguous runs — wholly outside | edge | interior | edge |
// wholly outside — whose bounds are computed here exactly with integer arithmetic. wasm/warp.wat
// samples the interior run in a tight loop (`interior`) and the edge runs with the half-pixel
// clamp (`span`); outside pixels get the table's value of 0, like the JS kernel. The module is
// compiled synchronously once per thread (each worker has its own) from the committed base64
// (wasm/warp-wasm.ts). Without WebAssembly SIMD, with PICPAC_WARP=js in the environment, or
// after setWarpBackend('js'), the callers use the JS kernels.
import { FIX, nearestRowRun, spanHi, spanLo } from './warp-kernels.ts';
import type { SamplingPlan } from './warp-kernels.ts';
import { WARP_WASM_BASE64 } from './wasm/warp-wasm.ts';

/** The part of the WebAssembly API used here (the project's lib settings do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

export interface WarpExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  /** Interior pixels only, additive table only (count ≥ 1). See wasm/warp.wat. */
  interior(src: number, stride: number, dst: number, count: number, fx: number, fy: number, stepX: number, stepY: number, add: number, sub: number): void;
  rgbToFloat(src: number, dst: number, pixels: number): void;
  rgbPermute(src: number, dst: number, pixels: number): void;
  /** Nearest-neighbour run of a single-channel 8-bit label; every source pixel inside. See wasm/warp.wat. */
  nearest1(src: number, stride: number, dst: number, count: number, fx: number, fy: number, stepX: number, stepY: number): void;
  /** `count` pixels of the 3 bytes of rgb (R | G<<8 | B<<16). See wasm/warp.wat. */
  fill3(dst: number, count: number, rgb: number): void;
  /** Pixels not wholly outside; lut < 0: additive deltas add/sub, else the table's address. */
  span(src: number, stride: number, maxX: number, maxY: number, dst: number, count: number, fx: number, fy: number, stepX: number, stepY: number, lut: number, add: number, sub: number): void;
}

export type WarpBackend = 'auto' | 'js';

let backend: WarpBackend = readEnvBackend();
/** undefined: not tried yet in this thread; null: unavailable. */
let instance: WarpExports | null | undefined;

function readEnvBackend(): WarpBackend {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.PICPAC_WARP === 'js' ? 'js' : 'auto';
}

/** Choose the warp kernel for this thread: 'auto' (WebAssembly SIMD when available) or 'js'. */
export function setWarpBackend(value: WarpBackend): void {
  backend = value;
}

/** The kernel warpImage uses in this thread for 8-bit RGB images. */
export function warpBackend(): 'wasm' | 'js' {
  return backend === 'auto' && loadWasm() !== null ? 'wasm' : 'js';
}

/** The thread's kernels module (also used by batch-simd.ts), or null (unavailable or 'js'). */
export function wasmKernels(): WarpExports | null {
  return backend === 'js' ? null : loadWasm();
}

/**
 * Largest working set the kernels take (wasm memory only grows, and each thread keeps its own):
 * bigger images, beyond what a training stream uses, stay in JS.
 */
export const MAX_WASM_BYTES = 64 * 2 ** 20;

/** A byte view of the kernels' memory with at least `byteLength` (≤ MAX_WASM_BYTES) bytes. */
export function wasmHeap(wasm: WarpExports, byteLength: number): Uint8Array {
  const memory = wasm.memory;
  if (memory.buffer.byteLength < byteLength) memory.grow(Math.ceil((byteLength - memory.buffer.byteLength) / 65536));
  return new Uint8Array(memory.buffer);
}

/** The bytes of a base64 string (the generated wasm modules). */
export function base64Bytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function loadWasm(): WarpExports | null {
  if (instance !== undefined) return instance;
  try {
    const bytes = base64Bytes(WARP_WASM_BASE64);
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    instance = api === undefined ? null : new api.Instance(new api.Module(bytes)).exports as WarpExports;
  } catch {
    instance = null; // no WebAssembly, or no SIMD (CompileError): the JS kernel serves
  }
  return instance;
}

/** Per-channel deltas packed as bytes (R | G<<8 | B<<16) if lut is v → clamp(v + d_k), else null. */
function additiveDeltas(lut: Uint8Array): { add: number; sub: number } | null {
  let add = 0;
  let sub = 0;
  for (let k = 0; k < 3; k++) {
    const base = k << 8;
    // A saturating table is determined by any unsaturated entry; try both ends.
    const d = lut[base + 255] < 255 ? lut[base + 255] - 255 : lut[base];
    for (let v = 0; v < 256; v++) {
      const w = v + d;
      if (lut[base + v] !== (w < 0 ? 0 : w > 255 ? 255 : w)) return null;
    }
    if (d > 0) add |= d << (8 * k);
    else sub |= -d << (8 * k);
  }
  return { add, sub };
}

/** Coordinates beyond this many pixels could overflow 16.16 in i32: such plans stay in JS. */
const SAFE_COORDINATE = 16000;

/**
 * The wasm twin of bilinear8c3 (same arguments; the identity table when lut is undefined), except
 * that it writes every byte of dst, which holds exactly the output (plan.width × its height × 3;
 * outside the frame 0), so dst need not be zeroed first. Returns false, having written nothing,
 * when the wasm kernel cannot serve this call.
 */
export function bilinear8c3Wasm(src: Uint8Array, sw: number, sh: number, plan: SamplingPlan, dst: Uint8Array, lut: Uint8Array | undefined): boolean {
  const wasm = wasmKernels();
  if (wasm === null) return false;
  const m = plan.inverse; // by index, not destructured (warp-kernels.ts says why)
  const a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5];
  const { left, top, right, bottom } = plan.frame;
  if (sw < 2 || sh < 2) return false; // the wasm edge handling needs a 2×2 source
  const outBytes = dst.length;
  if (left >= right || top >= bottom) {
    dst.fill(0, 0, outBytes);
    return true;
  }
  for (let corner = 0; corner < 4; corner++) {
    const x = corner & 1 ? right : left;
    const y = corner & 2 ? bottom : top;
    if (!(Math.abs(a * x + b * y + c) < SAFE_COORDINATE && Math.abs(d * x + e * y + f) < SAFE_COORDINATE)) return false;
  }
  const outWidth = plan.width;
  const stride = sw * 3;
  // Memory: [src + 16 bytes read slack][dst rows top..bottom][lut].
  const srcPtr = 64;
  const dstPtr = (srcPtr + sw * sh * 3 + 16 + 63) & ~63;
  const rowBase = top * outWidth * 3;
  const dstLength = (bottom - top) * outWidth * 3;
  const lutPtr = (dstPtr + dstLength + 63) & ~63;
  const needed = lutPtr + 768;
  if (needed > MAX_WASM_BYTES) return false;
  const heap = wasmHeap(wasm, needed);
  heap.set(src.subarray(0, sw * sh * 3), srcPtr);
  heap.fill(0, srcPtr + sw * sh * 3, srcPtr + sw * sh * 3 + 16);
  const deltas = lut === undefined ? { add: 0, sub: 0 } : additiveDeltas(lut);
  if (deltas === null) heap.set(lut!.subarray(0, 768), lutPtr);
  const maxX = sw - 1;
  const maxY = sh - 1;
  const stepX = Math.round(a * FIX) | 0;
  const stepY = Math.round(d * FIX) | 0;
  const count = right - left;
  const heapOffset = dstPtr - rowBase; // output index o lives at heap[heapOffset + o]
  // Every byte of the rows top…bottom is written once (the heap holds the last call's pixels):
  // the frame's pixels outside the source get the table's value of 0, the crop padding 0.
  const outside = lut === undefined ? 0 : lut[0] | (lut[256] << 8) | (lut[512] << 16);
  const lutAt = deltas === null ? lutPtr : -1;
  const add = deltas === null ? 0 : deltas.add;
  const sub = deltas === null ? 0 : deltas.sub;
  for (let y = top; y < bottom; y++) {
    const fx0 = Math.round((a * left + b * y + c) * FIX) | 0;
    const fy0 = Math.round((d * left + e * y + f) * FIX) | 0;
    // Along a row the pixels not wholly outside (−1 ≤ x0 ≤ maxX, −1 ≤ y0 ≤ maxY) are one run.
    const lo = Math.max(spanLo(fx0 + FIX, stepX, (maxX + 2) * FIX), spanLo(fy0 + FIX, stepY, (maxY + 2) * FIX), 0);
    const hi = Math.min(spanHi(fx0 + FIX, stepX, (maxX + 2) * FIX), spanHi(fy0 + FIX, stepY, (maxY + 2) * FIX), count);
    const rowStart = heapOffset + y * outWidth * 3;
    const row = rowStart + left * 3;
    if (left > 0) wasm.fill3(rowStart, left, 0);
    if (right < outWidth) wasm.fill3(rowStart + right * 3, outWidth - right, 0);
    if (hi <= lo) {
      wasm.fill3(row, count, outside);
      continue;
    }
    if (lo > 0) wasm.fill3(row, lo, outside);
    if (hi < count) wasm.fill3(row + hi * 3, count - hi, outside);
    // Within it, the interior run (0 ≤ x0 < maxX, 0 ≤ y0 < maxY) takes the tight loop.
    let innerLo = hi;
    let innerHi = hi;
    if (lutAt < 0) {
      innerLo = Math.max(spanLo(fx0, stepX, maxX * FIX), spanLo(fy0, stepY, maxY * FIX), lo);
      innerHi = Math.min(spanHi(fx0, stepX, maxX * FIX), spanHi(fy0, stepY, maxY * FIX), hi);
      if (innerHi <= innerLo) innerLo = innerHi = hi;
      else wasm.interior(srcPtr, stride, row + innerLo * 3, innerHi - innerLo, (fx0 + innerLo * stepX) | 0, (fy0 + innerLo * stepY) | 0, stepX, stepY, add, sub);
    }
    if (innerLo > lo) wasm.span(srcPtr, stride, maxX, maxY, row + lo * 3, innerLo - lo, (fx0 + lo * stepX) | 0, (fy0 + lo * stepY) | 0, stepX, stepY, lutAt, add, sub);
    if (hi > innerHi) wasm.span(srcPtr, stride, maxX, maxY, row + innerHi * 3, hi - innerHi, (fx0 + innerHi * stepX) | 0, (fy0 + innerHi * stepY) | 0, stepX, stepY, lutAt, add, sub);
  }
  dst.set(heap.subarray(dstPtr, dstPtr + dstLength), rowBase);
  dst.fill(0, 0, rowBase);
  dst.fill(0, rowBase + dstLength, outBytes);
  return true;
}

/**
 * The wasm twin of warp.ts warpLabel's 16.16 loop for a single-channel 8-bit label (same runs,
 * same coordinates, so the same bytes): output rows frame.top…bottom, columns frame.left…right,
 * of `dst` (plan.width wide, already zero) get src[round(inverse · (x, y))] where that lies in
 * the label. False, having written nothing, when the kernel cannot serve the call (no wasm, or
 * the working set is too large); the caller then runs the JS loop.
 */
export function nearest8c1Wasm(
  src: Uint8Array, sw: number, sh: number, plan: { inverse: readonly number[]; width: number },
  frame: { left: number; top: number; right: number; bottom: number }, dst: Uint8Array,
): boolean {
  const wasm = wasmKernels();
  if (wasm === null) return false;
  const { left, top, right, bottom } = frame;
  const outWidth = plan.width;
  // Memory: [src][dst rows top..bottom].
  const srcPtr = 64;
  const dstPtr = (srcPtr + sw * sh + 63) & ~63;
  const rowBase = top * outWidth;
  const dstLength = (bottom - top) * outWidth;
  const needed = dstPtr + dstLength;
  if (needed > MAX_WASM_BYTES) return false;
  const heap = wasmHeap(wasm, needed);
  heap.set(src.subarray(0, sw * sh), srcPtr);
  heap.fill(0, dstPtr, dstPtr + dstLength);
  const stepX = Math.round(plan.inverse[0] * FIX) | 0;
  const stepY = Math.round(plan.inverse[3] * FIX) | 0;
  for (let y = top; y < bottom; y++) {
    const run = nearestRowRun(plan.inverse, left, right, y, sw, sh, stepX, stepY);
    if (run !== undefined) wasm.nearest1(srcPtr, sw, dstPtr + (y - top) * outWidth + left + run.lo, run.hi - run.lo, run.fx, run.fy, stepX, stepY);
  }
  dst.set(heap.subarray(dstPtr, dstPtr + dstLength), rowBase);
  return true;
}
