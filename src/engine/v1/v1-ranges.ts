// Plan, then fetch (STYLE §10): byte ranges known in advance are coalesced into large reads,
// and a sequential window serves a scan whose next position depends on the bytes just read.
import type { ByteSource } from '../sources/byte-source.ts';

export interface ByteRange {
  byteOffset: number;
  byteLength: number;
}

export interface CoalesceOptions {
  /** Merge neighbours separated by at most this many bytes (default 32 KiB). */
  gapBytes?: number;
  /** Largest merged read (default 4 MiB). */
  maxChunkBytes?: number;
  /** Reads in flight (default 8). */
  concurrency?: number;
}

export interface Chunk {
  byteOffset: number;
  byteLength: number;
  /** Indexes into the range list. */
  members: number[];
}

/** Pure plan: ranges (sorted by offset) → merged chunks. */
export function planChunks(ranges: readonly ByteRange[], options?: CoalesceOptions): Chunk[] {
  const gap = options?.gapBytes ?? 32 * 1024;
  const maxChunk = options?.maxChunkBytes ?? 4 << 20;
  const chunks: Chunk[] = [];
  let current: Chunk | undefined;
  for (const [i, r] of ranges.entries()) {
    const end = r.byteOffset + r.byteLength;
    const currentEnd = current ? current.byteOffset + current.byteLength : 0;
    if (current && r.byteOffset >= current.byteOffset && r.byteOffset - currentEnd <= gap && end - current.byteOffset <= maxChunk) {
      current.byteLength = Math.max(currentEnd, end) - current.byteOffset;
      current.members.push(i);
    } else {
      current = { byteOffset: r.byteOffset, byteLength: r.byteLength, members: [i] };
      chunks.push(current);
    }
  }
  return chunks;
}

/**
 * Read every range (possibly short at the end of the source) and hand it to `visit` with its
 * index; chunks are released as soon as visited, so memory stays at `concurrency` chunks.
 */
export async function forEachRange(
  source: ByteSource,
  ranges: readonly ByteRange[],
  visit: (rangeIndex: number, bytes: Uint8Array) => void,
  options?: CoalesceOptions,
): Promise<void> {
  const chunks = planChunks(ranges, options);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < chunks.length) {
      const chunk = chunks[next++];
      const bytes = await source.read(chunk.byteOffset, chunk.byteLength);
      for (const m of chunk.members) {
        const start = ranges[m].byteOffset - chunk.byteOffset;
        visit(m, bytes.subarray(Math.min(start, bytes.length), Math.min(start + ranges[m].byteLength, bytes.length)));
      }
    }
  };
  const workers = Array.from({ length: Math.min(options?.concurrency ?? 8, chunks.length) }, worker);
  await Promise.all(workers);
}

/** Sequential reads through a window: `bytesAt` reads ahead `windowBytes` on a miss. */
export class ReadWindow {
  private windowOffset = 0;
  private window: Uint8Array = new Uint8Array(0);
  constructor(
    private readonly source: ByteSource,
    private readonly windowBytes = 1 << 20,
  ) {}

  /** Up to `byteLength` bytes at `byteOffset` (fewer only at the end of the source). */
  async bytesAt(byteOffset: number, byteLength: number): Promise<Uint8Array> {
    const start = byteOffset - this.windowOffset;
    const end = start + byteLength;
    const atEnd = this.windowOffset + this.window.length >= this.source.byteLength;
    if (start < 0 || start > this.window.length || (end > this.window.length && !atEnd)) {
      this.window = await this.source.read(byteOffset, Math.max(byteLength, this.windowBytes));
      this.windowOffset = byteOffset;
      return this.window.subarray(0, byteLength);
    }
    return this.window.subarray(start, Math.min(end, this.window.length));
  }
}
