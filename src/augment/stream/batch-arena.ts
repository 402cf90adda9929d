// The batch tensors of a stream with reused buffers, carved out of ONE shared WebAssembly memory
// that every worker thread also holds, so the float32 conversion is stored by wasm straight into
// the batch (pixels/convert-simd.ts says why that matters). The start of the memory holds one
// slot per thread (the pool's thread, or an inline stream's, is slot 0; worker i is slot i + 1);
// batch buffers follow, allocated first fit and recycled by BatchGather (float32 or uint8 images,
// float32 labels). A stream without reused buffers gives its batches away, so they cannot live
// here: it keeps plain SharedArrayBuffers (inline: plain ArrayBuffers, no other thread writes them).
import { SLOT_BYTES, createSharedMemory } from '../pixels/convert-simd.ts';
import type { SharedWasmMemory } from '../pixels/convert-simd.ts';
import { DECODE_TARGET_SKEW_BYTES } from '../pixels/decode-target.ts';

const PAGE_BYTES = 65536;
/** Address space the memory may grow to (reserved, not committed): 2 GiB. */
const MAXIMUM_PAGES = 32768;
const ALIGN = 64;

interface FreeBlock {
  offset: number;
  bytes: number;
}

export class BatchArena {
  private top: number;
  private free: FreeBlock[] = [];

  private constructor(readonly memory: SharedWasmMemory, readonly slots: number) {
    this.top = align(slots * SLOT_BYTES);
  }

  /** An arena with `slots` thread slots, or undefined where shared WebAssembly memory or SIMD is unavailable. */
  static create(slots: number): BatchArena | undefined {
    const memory = createSharedMemory(Math.ceil(align(slots * SLOT_BYTES) / PAGE_BYTES) + 1, MAXIMUM_PAGES);
    return memory === undefined ? undefined : new BatchArena(memory, slots);
  }

  /**
   * Byte offset of `bytes` fresh bytes, DECODE_TARGET_SKEW_BYTES past a 64-byte boundary (never
   * on a 16-byte one: a decode-only sample is decoded straight into its place, and libjpeg-turbo
   * stores aligned rows past the cache, pixels/decode-target.ts; 0.980× the wall time of
   * 64-aligned blocks, 256² decode only, two threads, 20 pairs), or undefined when the memory
   * cannot grow that far.
   */
  alloc(bytes: number): number | undefined {
    const size = blockSize(bytes);
    const at = this.free.findIndex((b) => b.bytes >= size);
    if (at >= 0) {
      const block = this.free[at];
      const offset = block.offset;
      if (block.bytes === size) this.free.splice(at, 1);
      else {
        block.offset += size;
        block.bytes -= size;
      }
      return offset + DECODE_TARGET_SKEW_BYTES;
    }
    const offset = this.top;
    const end = offset + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE_BYTES);
      try {
        this.memory.grow(pages);
      } catch {
        return undefined; // past the maximum, or no memory: the caller uses a plain SharedArrayBuffer
      }
    }
    this.top = end;
    return offset + DECODE_TARGET_SKEW_BYTES;
  }

  /** Give back a block from alloc() (its offset and size as asked). */
  release(offset: number, bytes: number): void {
    this.free.push({ offset: offset - DECODE_TARGET_SKEW_BYTES, bytes: blockSize(bytes) });
  }

  /** Byte view of `elements` at `offset` (an alloc()'d block). */
  uint8(offset: number, elements: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, offset, elements);
  }

  /** Float32 view of `elements` at `offset` (an alloc()'d block). */
  float32(offset: number, elements: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, elements);
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

/** Bytes a block of `bytes` takes: its skew and its size, rounded up to whole 64-byte lines. */
function blockSize(bytes: number): number {
  return align(Math.max(bytes, 1) + DECODE_TARGET_SKEW_BYTES);
}
