// WebAssembly SIMD twins of batch.ts's hot conversions: 8-bit 3-channel pixels → float32 NHWC,
// channels permuted (RGB → BGR) and the means subtracted (wasm/warp.wat `rgbToFloat`), or →
// uint8 NHWC with the channels permuted (`rgbPermute`), 4 pixels per step. JS computes `src[i] − mean` in double and rounds once to float32; wasm
// subtracts in float32, which gives the same bits exactly when every mean is a float32 value
// (integers are): otherwise, and without WebAssembly SIMD, the caller's JS loop runs.
import { MAX_WASM_BYTES, wasmHeap, wasmKernels } from './warp-simd.ts';

/** Memory 0–15: the swizzle taking 4 pixels' bytes to the output channel order. */
function writeSwizzle(heap: Uint8Array, map: readonly number[]): void {
  for (let p = 0; p < 4; p++) for (let k = 0; k < 3; k++) heap[p * 3 + k] = p * 3 + map[k];
  heap.fill(255, 12, 16); // swizzle index 255 reads as 0
}

/**
 * dst[base + 3p + k] = src[3p + map[k]] − mean[k] for the `per / 3` pixels; false (nothing
 * written) when the wasm kernel cannot give JS's exact result.
 */
export function rgb8ToFloatWasm(src: Uint8Array, dst: Float32Array, base: number, per: number, map: readonly number[], mean: readonly number[]): boolean {
  for (let k = 0; k < 3; k++) if (Math.fround(mean[k]) !== mean[k]) return false;
  const wasm = wasmKernels();
  if (wasm === null) return false;
  const pixels = per / 3;
  const quads = pixels & ~3; // whole groups of 4 pixels in wasm, the rest below
  const srcPtr = 64;
  const dstPtr = (srcPtr + quads * 3 + 16 + 63) & ~63;
  if (dstPtr + quads * 12 > MAX_WASM_BYTES) return false;
  const heap = wasmHeap(wasm, dstPtr + quads * 12);
  writeSwizzle(heap, map);
  const means = new Float32Array(heap.buffer, 16, 12);
  for (let i = 0; i < 12; i++) means[i] = mean[i % 3];
  heap.set(src.subarray(0, quads * 3), srcPtr);
  wasm.rgbToFloat(srcPtr, dstPtr, quads);
  // The last pixels in JS, before the copy out: `src` may be the first bytes of dst's own
  // place (batch.ts staged conversion), which both writes would otherwise overrun.
  rgb8ToFloatBackward(src, dst, base, quads * 3, per, map, mean);
  dst.set(new Float32Array(heap.buffer, dstPtr, quads * 3), base);
  return true;
}

/**
 * dst[base + i + k] = src[i + map[k]] − mean[k] for the pixels at byte offsets [from, per) of
 * `src`, back to front: `src` may be the first bytes of dst's own float32 place (pixel p's floats
 * start at byte 12p ≥ 3p, past every source byte still unread).
 */
export function rgb8ToFloatBackward(src: Uint8Array, dst: Float32Array, base: number, from: number, per: number, map: readonly number[], mean: readonly number[]): void {
  for (let i = per - 3, o = base + per - 3; i >= from; i -= 3, o -= 3) {
    const v0 = src[i + map[0]] - mean[0];
    const v1 = src[i + map[1]] - mean[1];
    const v2 = src[i + map[2]] - mean[2];
    dst[o] = v0;
    dst[o + 1] = v1;
    dst[o + 2] = v2;
  }
}

/**
 * dst[base + i + k] = src[i + map[k]] for the pixels at byte offsets [from, per), front to back,
 * each pixel read before it is written (`src` may be dst's own place).
 */
export function rgb8PermuteForward(src: Uint8Array, dst: Uint8Array, base: number, from: number, per: number, map: readonly number[]): void {
  for (let i = from, o = base + from; i < per; i += 3, o += 3) {
    const v0 = src[i + map[0]];
    const v1 = src[i + map[1]];
    const v2 = src[i + map[2]];
    dst[o] = v0;
    dst[o + 1] = v1;
    dst[o + 2] = v2;
  }
}

/** dst[base + 3p + k] = src[3p + map[k]] (dtype uint8: the channel swap only); false when wasm is unavailable. */
export function rgb8PermuteWasm(src: Uint8Array, dst: Uint8Array, base: number, per: number, map: readonly number[]): boolean {
  const wasm = wasmKernels();
  if (wasm === null) return false;
  const quads = (per / 3) & ~3;
  const srcPtr = 64;
  const dstPtr = (srcPtr + quads * 3 + 16 + 63) & ~63;
  if (dstPtr + quads * 3 > MAX_WASM_BYTES) return false;
  const heap = wasmHeap(wasm, dstPtr + quads * 3);
  writeSwizzle(heap, map);
  heap.set(src.subarray(0, quads * 3), srcPtr);
  wasm.rgbPermute(srcPtr, dstPtr, quads);
  dst.set(heap.subarray(dstPtr, dstPtr + quads * 3), base);
  for (let i = quads * 3, o = base + quads * 3; i < per; i += 3, o += 3) {
    dst[o] = src[i + map[0]];
    dst[o + 1] = src[i + map[1]];
    dst[o + 2] = src[i + map[2]];
  }
  return true;
}
