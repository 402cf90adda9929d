// Plan, then fetch (STYLE §10, hyparquet plan.js): a pure planner that merges byte ranges whose
// gap is at most `maxGapBytes` into one request, and slices the fetched bytes back per range.
// Kept I/O-free so the planning can be unit-tested.

/** A span of bytes in a source: start offset and length, in bytes. */
export interface ByteRange {
  byteOffset: number;
  byteLength: number;
}

/** One read {@link planReads} chose: a merged span, and which of the requested ranges it serves. */
export interface PlannedRead extends ByteRange {
  /** Indices (into the caller's range list) served by this read. */
  rangeIndices: number[];
}

/** Options of {@link planReads}. */
export interface ReadPlanOptions {
  /** Merge ranges separated by at most this many bytes (default 64 KiB). */
  maxGapBytes?: number;
  /** Do not grow a merged read beyond this (default 64 MiB; a single larger range stays whole). */
  maxReadBytes?: number;
}

/** Default largest gap, in bytes (64 KiB), that {@link planReads} reads through to merge two ranges into one request. */
export const DEFAULT_MAX_GAP_BYTES = 64 << 10;
const DEFAULT_MAX_READ_BYTES = 64 << 20;

/** Coalesce `ranges` into as few reads as the gap rule allows; reads come out in offset order. */
export function planReads(ranges: readonly ByteRange[], options?: ReadPlanOptions): PlannedRead[] {
  const maxGapBytes = options?.maxGapBytes ?? DEFAULT_MAX_GAP_BYTES;
  const maxReadBytes = options?.maxReadBytes ?? DEFAULT_MAX_READ_BYTES;
  const order = ranges.map((_, i) => i).filter((i) => ranges[i].byteLength > 0);
  order.sort((a, b) => ranges[a].byteOffset - ranges[b].byteOffset || ranges[a].byteLength - ranges[b].byteLength);
  const reads: PlannedRead[] = [];
  let current: PlannedRead | undefined;
  for (const i of order) {
    const r = ranges[i];
    const end = r.byteOffset + r.byteLength;
    if (current) {
      const currentEnd = current.byteOffset + current.byteLength;
      const mergedLength = Math.max(currentEnd, end) - current.byteOffset;
      if (r.byteOffset - currentEnd <= maxGapBytes && mergedLength <= maxReadBytes) {
        current.byteLength = mergedLength;
        current.rangeIndices.push(i);
        continue;
      }
    }
    current = { byteOffset: r.byteOffset, byteLength: r.byteLength, rangeIndices: [i] };
    reads.push(current);
  }
  return reads;
}

/**
 * Cut the results of `reads` (bytes[k] fetched for reads[k], possibly short at the end of the
 * source) back into one Uint8Array per requested range, in the caller's order. Views, no copies.
 */
export function sliceReads(ranges: readonly ByteRange[], reads: readonly PlannedRead[], bytes: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = ranges.map(() => new Uint8Array(0));
  reads.forEach((read, k) => {
    for (const i of read.rangeIndices) {
      const start = ranges[i].byteOffset - read.byteOffset;
      out[i] = bytes[k].subarray(Math.min(start, bytes[k].length), Math.min(start + ranges[i].byteLength, bytes[k].length));
    }
  });
  return out;
}
