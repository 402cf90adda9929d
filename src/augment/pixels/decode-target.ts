// Where decoded pixels land: never on a 16-byte boundary.
//
// libjpeg-turbo's SIMD colour conversion writes an output row that starts 16- or 32-byte aligned
// with non-temporal stores, which bypass the cache (`test $0x1f,%rdi; jne …; vmovntdq` in
// jsimd_ycc_extrgb_convert_avx2, `movntdq` in the SSE2 version), and a row that does not with
// ordinary stores. Whatever reads the pixels next — the float32 conversion, the warp — then gets
// them from memory instead of the cache. Rows of a 256² RGB image are 768 bytes apart, so a buffer
// on a 32-byte boundary made every row aligned: the decode measured ≈ 5 % slower into such a
// buffer than into one 8 bytes past it (one thread, same images, alternating rounds), and the
// stream ran faster once its batch places moved 8 bytes (docs/performance.md). A buffer from
// malloc is 16-aligned, so 8 bytes into it is never 16-aligned; nor is 8 past a 64-byte boundary.
export const DECODE_TARGET_SKEW_BYTES = 8;

/** `length` zeroed bytes that start DECODE_TARGET_SKEW_BYTES into their own ArrayBuffer. */
export function decodeTargetBytes(length: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(length + DECODE_TARGET_SKEW_BYTES), DECODE_TARGET_SKEW_BYTES, length);
}
