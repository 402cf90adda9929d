// Segment header codec of format 1.0 (REFERENCE §1.1.2). Unlike the original, which never looked
// at magic or version, decoding validates every field it relies on and names the byte offset.
import { FormatError, LimitExceededError, UnfinishedFileError, UnsupportedVersionError } from '../../errors.ts';
import { readU64, viewOf, writeU64 } from '../bytes.ts';
import {
  MAX_RECORD_SIZE,
  MAX_SEG_RECORDS,
  RECORD_HEAD_SIZE,
  SEGMENT_HEADER,
  SEGMENT_HEADER_SIZE,
  V1_MAGIC,
  V1_VERSION,
} from './layout.ts';

export const SEGMENT_SECTION = 'v1-segment';

export interface V1SegmentHeader {
  /** Records in the segment (the `size` field), 0..1020. */
  recordCount: number;
  /** Absolute offset of the next segment (for the last one: the file length); 0 = never closed. */
  link: number;
  /** On-disk length of each record including alignment padding; length = recordCount. */
  sizes: Uint32Array;
  /** Group (label, or label2 with INDEX_LABEL2) of each record; length = recordCount. */
  groups: Float32Array;
}

export interface DecodeSegmentOptions {
  /** Absolute file offset of the header, for error messages (default 0). */
  byteOffset?: number;
  /** Serial number of the segment's first record, for error messages. */
  firstRecordIndex?: number;
}

/** 8192 bytes: magic, version, size, link, sizes[], groups[]; unused slots and reserved zero. */
export function encodeSegmentHeader(header: {
  recordCount: number;
  link: number;
  sizes: ArrayLike<number>;
  groups: ArrayLike<number>;
}): Uint8Array {
  const { recordCount, link, sizes, groups } = header;
  if (!Number.isInteger(recordCount) || recordCount < 0 || recordCount > MAX_SEG_RECORDS) {
    throw new RangeError(`Expected an integer 0..${MAX_SEG_RECORDS} for recordCount but received ${recordCount}`);
  }
  if (!Number.isSafeInteger(link) || link < 0) {
    throw new RangeError(`Expected a safe non-negative integer for link but received ${link}`);
  }
  if (sizes.length < recordCount || groups.length < recordCount) {
    throw new RangeError(`Expected ${recordCount} sizes and groups but received ${sizes.length} and ${groups.length}`);
  }
  const bytes = new Uint8Array(SEGMENT_HEADER_SIZE);
  const view = viewOf(bytes);
  view.setUint16(SEGMENT_HEADER.magic.offset, V1_MAGIC, true);
  view.setUint16(SEGMENT_HEADER.version.offset, V1_VERSION, true);
  view.setUint16(SEGMENT_HEADER.size.offset, recordCount, true);
  writeU64(view, SEGMENT_HEADER.link.offset, link);
  for (let i = 0; i < recordCount; i++) {
    view.setUint32(SEGMENT_HEADER.sizes.offset + 4 * i, sizes[i], true);
    view.setFloat32(SEGMENT_HEADER.groups.offset + 4 * i, groups[i], true);
  }
  return bytes;
}

/**
 * Decode and validate a segment header. Checks: length, magic, version (UnsupportedVersionError),
 * size <= 1020, link <= 2^53-1, every used `sizes[i]` >= 64 and < 512 MiB. The link itself is
 * checked against the records by `checkSegmentLink` (it needs the file length).
 */
export function decodeSegmentHeader(bytes: Uint8Array, options?: DecodeSegmentOptions): V1SegmentHeader {
  const byteOffset = options?.byteOffset ?? 0;
  const first = options?.firstRecordIndex;
  const place = { section: SEGMENT_SECTION, byteOffset };
  if (bytes.length < SEGMENT_HEADER_SIZE) {
    throw new FormatError('truncated segment header', { ...place, expected: `${SEGMENT_HEADER_SIZE} bytes`, actual: `${bytes.length} bytes` });
  }
  const view = viewOf(bytes);
  const magic = view.getUint16(SEGMENT_HEADER.magic.offset, true);
  if (magic !== V1_MAGIC) {
    throw new FormatError('bad segment magic', { ...place, expected: hex16(V1_MAGIC), actual: hex16(magic) });
  }
  const version = view.getUint16(SEGMENT_HEADER.version.offset, true);
  if (version !== V1_VERSION) {
    throw new UnsupportedVersionError('unsupported PicPac 1.x version', {
      section: SEGMENT_SECTION,
      byteOffset: byteOffset + SEGMENT_HEADER.version.offset,
      expected: hex16(V1_VERSION),
      actual: hex16(version),
    });
  }
  const recordCount = view.getUint16(SEGMENT_HEADER.size.offset, true);
  if (recordCount > MAX_SEG_RECORDS) {
    throw new FormatError('segment record count too large', {
      section: SEGMENT_SECTION,
      byteOffset: byteOffset + SEGMENT_HEADER.size.offset,
      expected: `<= ${MAX_SEG_RECORDS}`,
      actual: recordCount,
    });
  }
  const link = readU64(view, SEGMENT_HEADER.link.offset, 'segment link', place);
  const sizes = new Uint32Array(recordCount);
  const groups = new Float32Array(recordCount);
  for (let i = 0; i < recordCount; i++) {
    const at = SEGMENT_HEADER.sizes.offset + 4 * i;
    const size = view.getUint32(at, true);
    const details = { section: SEGMENT_SECTION, byteOffset: byteOffset + at, recordIndex: first === undefined ? undefined : first + i };
    if (size < RECORD_HEAD_SIZE) {
      throw new FormatError('record size smaller than a record head', { ...details, expected: `>= ${RECORD_HEAD_SIZE}`, actual: size });
    }
    if (size >= MAX_RECORD_SIZE) {
      throw new LimitExceededError('record size too large', { ...details, expected: `< ${MAX_RECORD_SIZE}`, actual: size });
    }
    sizes[i] = size;
    groups[i] = view.getFloat32(SEGMENT_HEADER.groups.offset + 4 * i, true);
  }
  return { recordCount, link, sizes, groups };
}

/** Offset just past the segment's last record: where `link` must point. */
export function segmentEnd(header: V1SegmentHeader, segmentByteOffset: number): number {
  let end = segmentByteOffset + SEGMENT_HEADER_SIZE;
  for (let i = 0; i < header.recordCount; i++) end += header.sizes[i];
  return end;
}

/** True when the header was never rewritten by a closing writer (size 0 and link 0 on disk). */
export function isUnclosedSegment(header: V1SegmentHeader): boolean {
  return header.link === 0;
}

/**
 * The original reader's "offset == link" check, as typed errors: an unclosed segment is an
 * UnfinishedFileError (the writer died), a wrong link or one past the end of file a FormatError.
 */
export function checkSegmentLink(header: V1SegmentHeader, segmentByteOffset: number, fileByteLength: number): void {
  const linkOffset = segmentByteOffset + SEGMENT_HEADER.link.offset;
  if (isUnclosedSegment(header)) {
    throw new UnfinishedFileError('unclosed segment (the writer did not finish; open with recover: true to read it)', {
      section: SEGMENT_SECTION,
      byteOffset: segmentByteOffset,
      expected: 'a closed segment',
      actual: `size ${header.recordCount}, link 0`,
    });
  }
  const end = segmentEnd(header, segmentByteOffset);
  if (header.link !== end) {
    throw new FormatError('segment link does not match the end of its records', {
      section: SEGMENT_SECTION,
      byteOffset: linkOffset,
      expected: end,
      actual: header.link,
    });
  }
  if (end > fileByteLength) {
    throw new FormatError('segment extends past the end of the file (truncated)', {
      section: SEGMENT_SECTION,
      byteOffset: linkOffset,
      expected: `<= ${fileByteLength}`,
      actual: end,
    });
  }
}

function hex16(value: number): string {
  return `0x${value.toString(16).padStart(4, '0').toUpperCase()}`;
}
