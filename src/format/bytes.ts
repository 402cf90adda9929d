// Little-endian field access shared by the codecs in this folder. Every read here is preceded by
// a bounds check in the caller; these helpers only add the u64 safe-integer rule [CNV-2].
import { FormatError } from '../errors.ts';
import { LIMITS } from './layout.ts';

/** A DataView over exactly the bytes of `bytes` (views never see the rest of the buffer). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Where a value sits, for error messages. */
export interface ErrorPlace {
  section: string;
  /** Absolute file offset of the structure that `offset` is relative to. */
  byteOffset: number;
  recordIndex?: number;
}

/**
 * Read a u64 as a JS number. Values above 2^53-1 cannot be represented exactly, so they are a
 * FormatError, never a silently rounded offset.
 */
export function readU64(view: DataView, offset: number, name: string, place: ErrorPlace): number {
  const low = view.getUint32(offset, true);
  const high = view.getUint32(offset + 4, true);
  // 2^53-1 has high word 0x1FFFFF.
  if (high > 0x1fffff) {
    throw new FormatError(`${name} exceeds 2^53-1`, {
      section: place.section,
      byteOffset: place.byteOffset + offset,
      recordIndex: place.recordIndex,
      expected: `<= ${LIMITS.maxId}`,
      actual: `${(BigInt(high) << 32n) | BigInt(low)}`,
    });
  }
  return high * 0x1_0000_0000 + low;
}

/** Write a safe non-negative integer as a u64 (the caller has validated it). */
export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % 0x1_0000_0000, true);
  view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
}

/** True for an integer in 0..2^53-1: a u64 field value that a JS number holds exactly. */
export function isU64Safe(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function isU32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

export function isUint(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}
