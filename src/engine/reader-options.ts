// Option validation for PicpacReader (eager, sharp-style messages; STYLE §17-18, §23).
import { invalidParameterError, outOfRangeError } from '../errors.ts';
import { DEFAULT_LIMITS, LIMITS } from '../format/layout.ts';
import type { ScanOptions } from './store.ts';

/** Options of {@link PicpacReader.open}: damage handling, checksum verification, and size limits in bytes. */
export interface PicpacReaderOptions {
  /**
   * Rebuild the index by scanning every frame, skipping damaged ranges (default false). A
   * record and the annotation written with it are returned together or not at all [REC-11].
   */
  recover?: boolean;
  /**
   * Refuse a file whose end is not a valid footer or whose index is damaged (default false: open
   * the last valid commit, or scan the frames, and say so in `warnings`).
   */
  strict?: boolean;
  /** Verify payload CRCs on get/scan/getAnnotation (default true). */
  verifyChecksums?: boolean;
  /** Largest record payload accepted, bytes (default 1 GiB, at most 2^31-1). */
  maxRecordBytes?: number;
  /** Largest annotation payload accepted, bytes (default 64 MiB). */
  maxAnnotationBytes?: number;
  /** Largest index block payload accepted, bytes (default 1 GiB). */
  maxIndexBytes?: number;
}

/** Options of {@link PicpacReader.scan}. */
export interface PicpacScanOptions extends ScanOptions {
  /** Give each yielded record its own field bytes instead of views into the chunk (default false). */
  copy?: boolean;
}

export type ValidReaderOptions = Required<PicpacReaderOptions>;

function checkBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidParameterError(name, 'a boolean', value);
  return value;
}

function checkLimit(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidParameterError(name, `an integer between 0 and ${LIMITS.maxFramePayloadBytes}`, value);
  if (value < 0 || value > LIMITS.maxFramePayloadBytes) throw outOfRangeError(name, `an integer between 0 and ${LIMITS.maxFramePayloadBytes}`, value);
  return value;
}

export function validateReaderOptions(options: PicpacReaderOptions | undefined): ValidReaderOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
  return Object.freeze({
    recover: checkBoolean('options.recover', options.recover, false),
    strict: checkBoolean('options.strict', options.strict, false),
    verifyChecksums: checkBoolean('options.verifyChecksums', options.verifyChecksums, true),
    maxRecordBytes: checkLimit('options.maxRecordBytes', options.maxRecordBytes, DEFAULT_LIMITS.maxRecordBytes),
    maxAnnotationBytes: checkLimit('options.maxAnnotationBytes', options.maxAnnotationBytes, DEFAULT_LIMITS.maxAnnotationBytes),
    maxIndexBytes: checkLimit('options.maxIndexBytes', options.maxIndexBytes, DEFAULT_LIMITS.maxIndexBytes),
  });
}

export interface ValidScanOptions {
  start: number;
  end: number;
  chunkBytes: number;
  verifyChecksums: boolean;
  copy: boolean;
}

export const DEFAULT_CHUNK_BYTES = 4 << 20;

export function validateScanOptions(options: PicpacScanOptions | undefined, recordCount: number, verifyDefault: boolean): ValidScanOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
  const start = options.start ?? 0;
  const end = options.end ?? recordCount;
  if (typeof start !== 'number' || !Number.isInteger(start)) throw invalidParameterError('options.start', `an integer between 0 and ${recordCount}`, start);
  if (start < 0 || start > recordCount) throw outOfRangeError('options.start', `an integer between 0 and ${recordCount}`, start);
  if (typeof end !== 'number' || !Number.isInteger(end)) throw invalidParameterError('options.end', `an integer between ${start} and ${recordCount}`, end);
  if (end < start || end > recordCount) throw outOfRangeError('options.end', `an integer between ${start} and ${recordCount}`, end);
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (typeof chunkBytes !== 'number' || !Number.isInteger(chunkBytes)) throw invalidParameterError('options.chunkBytes', 'an integer between 4096 and 1073741824', chunkBytes);
  if (chunkBytes < 4096 || chunkBytes > 1 << 30) throw outOfRangeError('options.chunkBytes', 'an integer between 4096 and 1073741824', chunkBytes);
  return {
    start,
    end,
    chunkBytes,
    verifyChecksums: checkBoolean('options.verifyChecksums', options.verifyChecksums, verifyDefault),
    copy: checkBoolean('options.copy', options.copy, false),
  };
}
