// Batch conversion into a SHARED WebAssembly memory (wasm/convert.wat): the stream's batch
// tensors live in one shared memory (stream/batch-arena.ts) and every thread instantiates this
// module on it, so the float32 pixels are stored by wasm itself. From JavaScript, every copy into
// a SharedArrayBuffer runs with relaxed-atomic semantics in V8: Float32Array.set of 786 KB took
// 41 µs against 16 µs into private memory, uint8 → float32 set() 7× longer, fill() 20× (2 × AMD
// EPYC, Node 20). Each thread owns a slot of the memory: 64 bytes of constants (channel
// swizzle, means) and a chunk buffer that sources outside the memory are copied through.
import { CONVERT_WASM_BASE64 } from './wasm/convert-wasm.ts';
import { rgb8PermuteForward, rgb8ToFloatBackward } from './batch-simd.ts';
import { base64Bytes } from './warp-simd.ts';

/** The part of the WebAssembly API used here (the project's lib settings do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => SharedWasmMemory;
}

export interface SharedWasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}

interface ConvertExports {
  rgbToFloat(consts: number, src: number, dst: number, pixels: number): void;
  rgbPermute(consts: number, src: number, dst: number, pixels: number): void;
  bytesToFloat(src: number, dst: number, count: number): void;
}

/** Source bytes copied per kernel call (a multiple of 12 and 16: whole groups of 4 pixels / 16 bytes). */
const CHUNK_BYTES = 48 * 1024;
/** One thread's slot: constants, the chunk, read slack. */
export const SLOT_BYTES = 64 + CHUNK_BYTES + 64;

function wasmApi(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}

/** undefined: not tried in this thread; null: unavailable (no SIMD, no shared memory). */
let compiled: object | null | undefined;

function convertModule(): object | null {
  if (compiled !== undefined) return compiled;
  try {
    const api = wasmApi();
    compiled = api === undefined ? null : new api.Module(base64Bytes(CONVERT_WASM_BASE64));
  } catch {
    compiled = null;
  }
  return compiled;
}

/** A shared memory of `initialPages` (64 KiB each) that may grow to `maximumPages`, or undefined where unavailable. */
export function createSharedMemory(initialPages: number, maximumPages: number): SharedWasmMemory | undefined {
  const api = wasmApi();
  if (api === undefined || convertModule() === null) return undefined;
  try {
    return new api.Memory({ initial: initialPages, maximum: maximumPages, shared: true });
  } catch {
    return undefined;
  }
}

/**
 * This thread's converter over a shared memory, using slot `slot` (bytes [slot·SLOT_BYTES,
 * (slot + 1)·SLOT_BYTES), which the memory's owner reserves). Targets must be views of that memory.
 */
export class SharedConverter {
  private readonly kernels: ConvertExports;
  private readonly heap: Uint8Array;
  private readonly consts: number;
  private readonly chunk: number;
  /** The swizzle and means now in the slot (compared per call: no key string built per sample). */
  private lastMap: readonly number[] = [];
  private lastMean: readonly number[] = [];

  constructor(memory: SharedWasmMemory, slot: number) {
    const module = convertModule();
    if (module === null) throw new Error('WebAssembly SIMD with shared memory is unavailable');
    this.kernels = new (wasmApi()!).Instance(module, { env: { memory } }).exports as ConvertExports;
    this.heap = new Uint8Array(memory.buffer, 0, (slot + 1) * SLOT_BYTES); // the slots never move
    this.consts = slot * SLOT_BYTES;
    this.chunk = this.consts + 64;
  }

  /** Swizzle for 4 pixels and the means, unless already there. */
  private setConstants(map: readonly number[], mean: readonly number[]): void {
    if (sameNumbers(map, this.lastMap) && sameNumbers(mean, this.lastMean)) return;
    this.lastMap = map.slice();
    this.lastMean = mean.slice();
    const heap = this.heap;
    for (let p = 0; p < 4; p++) for (let k = 0; k < 3; k++) heap[this.consts + p * 3 + k] = p * 3 + map[k];
    heap.fill(255, this.consts + 12, this.consts + 16); // swizzle index 255 reads as 0
    const means = new Float32Array(heap.buffer, this.consts + 16, 12);
    for (let i = 0; i < 12; i++) means[i] = mean[i % 3];
  }

  /**
   * dst[base + 3p + k] = src[3p + map[k]] − mean[k] for `per / 3` pixels (batch.ts writeImage's
   * bytes); false (nothing written) when a mean is not a float32 value.
   */
  rgbToFloat(src: Uint8Array, dst: Float32Array, base: number, per: number, map: readonly number[], mean: readonly number[]): boolean {
    if (!meansExact(mean)) return false;
    this.setConstants(map, mean);
    const quadBytes = Math.floor(per / 12) * 12;
    rgb8ToFloatBackward(src, dst, base, quadBytes, per, map, mean);
    const dstAddress = dst.byteOffset + 4 * base;
    this.throughChunk(src, quadBytes, (chunk, at, length) => this.kernels.rgbToFloat(this.consts, chunk, dstAddress + 4 * at, length / 3));
    return true;
  }

  /**
   * The first `byteLength` bytes of `src` (outside the memory), copied into this thread's chunk
   * CHUNK_BYTES at a time, each piece handed to `kernel` (chunk address, offset in src, length).
   */
  private throughChunk(src: Uint8Array, byteLength: number, kernel: (chunk: number, at: number, length: number) => void): void {
    for (let at = 0; at < byteLength; at += CHUNK_BYTES) {
      const length = Math.min(CHUNK_BYTES, byteLength - at);
      this.heap.set(src.subarray(at, at + length), this.chunk);
      kernel(this.chunk, at, length);
    }
  }

  /**
   * The staged case: the 8-bit pixels are the first `per` bytes of their own float32 place
   * (batch.ts stagingView); converted in place, back to front. False when a mean is not a float32 value.
   */
  rgbToFloatInPlace(dst: Float32Array, base: number, per: number, map: readonly number[], mean: readonly number[]): boolean {
    if (!meansExact(mean)) return false;
    this.setConstants(map, mean);
    const address = dst.byteOffset + 4 * base;
    const src = new Uint8Array(dst.buffer, address, per);
    const quadBytes = Math.floor(per / 12) * 12;
    rgb8ToFloatBackward(src, dst, base, quadBytes, per, map, mean); // the last pixels first: back to front
    this.kernels.rgbToFloat(this.consts, address, address, quadBytes / 3);
    return true;
  }

  /** dst[base + 3p + k] = src[3p + map[k]] for `per / 3` pixels (dtype uint8: the channel order only). */
  rgbPermute(src: Uint8Array, dst: Uint8Array, base: number, per: number, map: readonly number[]): void {
    this.setConstants(map, [0, 0, 0]);
    const quadBytes = Math.floor(per / 12) * 12;
    rgb8PermuteForward(src, dst, base, quadBytes, per, map);
    const dstAddress = dst.byteOffset + base;
    this.throughChunk(src, quadBytes, (chunk, at, length) => this.kernels.rgbPermute(this.consts, chunk, dstAddress + at, length / 3));
  }

  /** rgbPermute of the place's own bytes, in place (front to back). */
  rgbPermuteInPlace(dst: Uint8Array, base: number, per: number, map: readonly number[]): void {
    this.setConstants(map, [0, 0, 0]);
    const address = dst.byteOffset + base;
    const quadBytes = Math.floor(per / 12) * 12;
    // (The kernel's last 16-byte load reaches 4 bytes into the tail, lanes its swizzle drops.)
    this.kernels.rgbPermute(this.consts, address, address, quadBytes / 3);
    const src = new Uint8Array(dst.buffer, address, per);
    rgb8PermuteForward(src, dst, base, quadBytes, per, map);
  }

  /** dst[base + i] = src[i] for `count` bytes (an 8-bit label map as floats). */
  bytesToFloat(src: Uint8Array, dst: Float32Array, base: number, count: number): void {
    const whole = count & ~15;
    for (let i = count - 1; i >= whole; i--) dst[base + i] = src[i];
    const dstAddress = dst.byteOffset + 4 * base;
    this.throughChunk(src, whole, (chunk, at, length) => this.kernels.bytesToFloat(chunk, dstAddress + 4 * at, length));
  }

  /** bytesToFloat of the first `count` bytes of the place itself, in place (back to front). */
  bytesToFloatInPlace(dst: Float32Array, base: number, count: number): void {
    const address = dst.byteOffset + 4 * base;
    const src = new Uint8Array(dst.buffer, address, count);
    const whole = count & ~15;
    for (let i = count - 1; i >= whole; i--) dst[base + i] = src[i];
    this.kernels.bytesToFloat(address, address, whole);
  }
}

function meansExact(mean: readonly number[]): boolean {
  for (let k = 0; k < 3; k++) if (Math.fround(mean[k]) !== mean[k]) return false;
  return true;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
