// The stream's `cache`: decoded, pre-augmentation samples (v1 cached the (image, label) pair
// per record and re-augmented it on every draw), bounded by bytes.
//
// Policy: fill until full, then stop admitting — no eviction. A training stream visits every
// record once per epoch in a fresh random order, so LRU would evict each entry just before its
// next use (a near-zero hit rate once the data is larger than the cache); keeping a fixed subset
// gives a stable hit rate of capacity / data size and never churns memory. Entries are shared,
// never mutated (augmentSample does not write into its input).
import { outOfRangeError } from '../../errors.ts';
import type { PreparedSample } from './sample-transform.ts';

export interface SampleCacheStats {
  entries: number;
  byteLength: number;
  maxByteLength: number;
  hits: number;
  misses: number;
  /** Samples not admitted because the cache was full. */
  refused: number;
}

/** Key of record `recordIndex` of source `sourceIndex` (0 main, 1 mixin). */
export function sampleKey(sourceIndex: number, recordIndex: number): number {
  return sourceIndex * 0x1_0000_0000 + recordIndex;
}

export function preparedByteLength(sample: PreparedSample): number {
  let bytes = sample.image.data.byteLength + (sample.label?.data.byteLength ?? 0);
  for (const extra of sample.extraImages ?? []) bytes += extra.data.byteLength;
  return bytes;
}

export class SampleCache {
  readonly maxByteLength: number;
  private readonly entries = new Map<number, PreparedSample>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private refused = 0;

  /** @param maxByteLength bytes of pixel data the cache may hold (0 disables it) */
  constructor(maxByteLength: number) {
    if (!Number.isSafeInteger(maxByteLength) || maxByteLength < 0) throw outOfRangeError('maxByteLength', 'a non-negative safe integer', maxByteLength);
    this.maxByteLength = maxByteLength;
  }

  /** Membership without counting a hit or miss. */
  has(key: number): boolean {
    return this.entries.has(key);
  }

  get(key: number): PreparedSample | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) this.misses++;
    else this.hits++;
    return hit;
  }

  /** Admit `sample` if it fits; returns whether it was stored. */
  put(key: number, sample: PreparedSample): boolean {
    if (this.entries.has(key)) return true;
    const size = preparedByteLength(sample);
    if (this.bytes + size > this.maxByteLength) {
      this.refused++;
      return false;
    }
    this.entries.set(key, sample);
    this.bytes += size;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  stats(): SampleCacheStats {
    return { entries: this.entries.size, byteLength: this.bytes, maxByteLength: this.maxByteLength, hits: this.hits, misses: this.misses, refused: this.refused };
  }
}
