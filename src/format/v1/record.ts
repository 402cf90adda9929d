// Record codec of format 1.0 (REFERENCE §1.1.3): a 64-byte head (id, label, width, label2, six
// field slots) followed by the field payloads back to back. One quirk of the original is fixed:
// a record whose last field is empty (it ends exactly where the record ends) is valid here.
import { FormatError, LimitExceededError, invalidParameterError, outOfRangeError } from '../../errors.ts';
import { viewOf } from '../bytes.ts';
import { alignUp } from '../layout.ts';
import { FIELD_SLOT, MAX_FIELDS, MAX_RECORD_SIZE, MAX_V1_FIELD_TYPE, RECORD_HEAD, RECORD_HEAD_SIZE } from './layout.ts';

export const RECORD_SECTION = 'v1-record';
const F32_MAX = 3.4028234663852886e38;

export interface V1Record {
  /** u32. */
  id: number;
  /** Stored as float32. */
  label: number;
  /** i16. */
  label2: number;
  /** 0..6 payloads, in slot order; empty ones allowed anywhere. */
  fields: Uint8Array[];
}

export interface V1RecordHead {
  id: number;
  label: number;
  label2: number;
  /** Fields used (the `width` byte), 0..6. */
  width: number;
  /** Sizes of the `width` used fields. */
  fieldSizes: number[];
  /** FieldType bytes of the used fields (0 from every known writer). */
  fieldTypes: number[];
  /** 64 + sum of the used field sizes: the record without padding. */
  byteLength: number;
}

export interface V1DecodedRecord extends V1RecordHead {
  /** Views into the decoded bytes. */
  fields: Uint8Array[];
}

export interface V1PlaceOptions {
  /** Absolute file offset of the record, for error messages (default 0). */
  byteOffset?: number;
  recordIndex?: number;
}

/** Bytes a record occupies without padding. */
export function v1RecordByteLength(fieldSizes: ArrayLike<number>): number {
  let total = RECORD_HEAD_SIZE;
  for (let k = 0; k < fieldSizes.length; k++) total += fieldSizes[k];
  return total;
}

/**
 * Head + fields, zero-padded to a multiple of `align` (4096 for the default mode, 1 = compact).
 * Validates id (u32), label (float32 range), label2 (i16); more than 6 fields or a record of
 * 512 MiB or more is a LimitExceededError, like the original's BadRecordSize.
 */
export function encodeV1Record(record: V1Record, options?: V1PlaceOptions & { align?: number }): Uint8Array {
  const { id, label, label2, fields } = record;
  const place = { section: RECORD_SECTION, byteOffset: options?.byteOffset ?? 0, recordIndex: options?.recordIndex };
  if (typeof id !== 'number' || !Number.isInteger(id)) throw invalidParameterError('id', 'an integer', id);
  if (id < 0 || id > 0xffffffff) throw outOfRangeError('id', 'an integer 0..4294967295 (u32)', id);
  if (typeof label !== 'number') throw invalidParameterError('label', 'a number', label);
  if (Number.isFinite(label) && Math.abs(label) > F32_MAX) throw outOfRangeError('label', 'a number in float32 range', label);
  if (typeof label2 !== 'number' || !Number.isInteger(label2)) throw invalidParameterError('label2', 'an integer', label2);
  if (label2 < -32768 || label2 > 32767) throw outOfRangeError('label2', 'an integer -32768..32767 (i16)', label2);
  if (!Array.isArray(fields)) throw invalidParameterError('fields', 'an array of Uint8Array', fields);
  for (const [k, f] of fields.entries()) {
    if (!(f instanceof Uint8Array)) throw invalidParameterError(`fields[${k}]`, 'a Uint8Array', f);
  }
  if (fields.length > MAX_FIELDS) {
    throw new LimitExceededError('too many fields for format 1.0', { ...place, expected: `<= ${MAX_FIELDS}`, actual: fields.length });
  }
  const byteLength = v1RecordByteLength(fields.map((f) => f.length));
  if (byteLength >= MAX_RECORD_SIZE) {
    throw new LimitExceededError('record too large for format 1.0', { ...place, expected: `< ${MAX_RECORD_SIZE}`, actual: byteLength });
  }
  const align = options?.align ?? 1;
  const bytes = new Uint8Array(alignUp(byteLength, align));
  const view = viewOf(bytes);
  view.setUint32(RECORD_HEAD.id.offset, id, true);
  view.setFloat32(RECORD_HEAD.label.offset, label, true);
  view.setUint8(RECORD_HEAD.width.offset, fields.length);
  view.setInt16(RECORD_HEAD.label2.offset, label2, true);
  let cursor = RECORD_HEAD_SIZE;
  for (const [k, f] of fields.entries()) {
    view.setUint32(RECORD_HEAD.fields.offset + FIELD_SLOT.byteLength * k + FIELD_SLOT.size.offset, f.length, true);
    bytes.set(f, cursor);
    cursor += f.length;
  }
  return bytes;
}

/**
 * Decode the head and check that the used fields fit in `recordByteLength` bytes (default: all of
 * `bytes`; pass the on-disk size when `bytes` holds only the head). Width > 6 and field overruns
 * are FormatErrors naming the slot's byte offset.
 */
export function decodeV1RecordHead(bytes: Uint8Array, options?: V1PlaceOptions & { recordByteLength?: number }): V1RecordHead {
  const byteOffset = options?.byteOffset ?? 0;
  const recordIndex = options?.recordIndex;
  const available = options?.recordByteLength ?? bytes.length;
  if (bytes.length < RECORD_HEAD_SIZE || available < RECORD_HEAD_SIZE) {
    throw new FormatError('truncated record head', {
      section: RECORD_SECTION,
      byteOffset,
      recordIndex,
      expected: `${RECORD_HEAD_SIZE} bytes`,
      actual: `${Math.min(bytes.length, available)} bytes`,
    });
  }
  const view = viewOf(bytes);
  const width = view.getUint8(RECORD_HEAD.width.offset);
  if (width > MAX_FIELDS) {
    throw new FormatError('record width too large', {
      section: RECORD_SECTION,
      byteOffset: byteOffset + RECORD_HEAD.width.offset,
      recordIndex,
      expected: `<= ${MAX_FIELDS}`,
      actual: width,
    });
  }
  const fieldSizes: number[] = [];
  const fieldTypes: number[] = [];
  let cursor = RECORD_HEAD_SIZE;
  for (let k = 0; k < width; k++) {
    const slot = RECORD_HEAD.fields.offset + FIELD_SLOT.byteLength * k;
    const size = view.getUint32(slot + FIELD_SLOT.size.offset, true);
    // The original rejected start == end (an empty last field); only a real overrun is an error.
    if (size > available - cursor) {
      throw new FormatError('field overruns the record', {
        section: RECORD_SECTION,
        byteOffset: byteOffset + slot,
        recordIndex,
        expected: `<= ${available - cursor} bytes`,
        actual: size,
      });
    }
    fieldSizes.push(size);
    fieldTypes.push(view.getUint8(slot + FIELD_SLOT.type.offset));
    cursor += size;
  }
  return {
    id: view.getUint32(RECORD_HEAD.id.offset, true),
    label: view.getFloat32(RECORD_HEAD.label.offset, true),
    label2: view.getInt16(RECORD_HEAD.label2.offset, true),
    width,
    fieldSizes,
    fieldTypes,
    byteLength: cursor,
  };
}

/** Decode a whole record (`bytes` = the record, padding optional); fields are views of `bytes`. */
export function decodeV1Record(bytes: Uint8Array, options?: V1PlaceOptions): V1DecodedRecord {
  const head = decodeV1RecordHead(bytes, options);
  const fields: Uint8Array[] = [];
  let cursor = RECORD_HEAD_SIZE;
  for (const size of head.fieldSizes) {
    fields.push(bytes.subarray(cursor, cursor + size));
    cursor += size;
  }
  return { ...head, fields };
}

/**
 * Recovery heuristic: could these bytes be the head of a record written by a 1.0 writer, with
 * `byteLengthLeft` bytes available from its start to the end of the file? True only when width
 * <= 6, every reserved byte is 0, every field type is a known FieldType (0..3), unused slots
 * are zero, the record fits, and the head is not all zero (a zero-filled tail is not a record).
 * Returns the record's byte length (without padding), or -1.
 */
export function plausibleV1RecordLength(bytes: Uint8Array, byteLengthLeft: number): number {
  if (bytes.length < RECORD_HEAD_SIZE || byteLengthLeft < RECORD_HEAD_SIZE) return -1;
  const view = viewOf(bytes);
  const width = view.getUint8(RECORD_HEAD.width.offset);
  if (width > MAX_FIELDS) return -1;
  if (view.getUint8(RECORD_HEAD.reserved1.offset) !== 0 || view.getUint32(RECORD_HEAD.reserved2.offset, true) !== 0) return -1;
  let total = RECORD_HEAD_SIZE;
  let allZero = view.getUint32(RECORD_HEAD.id.offset, true) === 0 && view.getUint32(RECORD_HEAD.label.offset, true) === 0 && width === 0;
  allZero &&= view.getInt16(RECORD_HEAD.label2.offset, true) === 0;
  for (let k = 0; k < MAX_FIELDS; k++) {
    const slot = RECORD_HEAD.fields.offset + FIELD_SLOT.byteLength * k;
    const size = view.getUint32(slot + FIELD_SLOT.size.offset, true);
    const type = view.getUint8(slot + FIELD_SLOT.type.offset);
    if (view.getUint8(slot + FIELD_SLOT.reserved1.offset) !== 0 || view.getUint16(slot + FIELD_SLOT.reserved2.offset, true) !== 0) return -1;
    if (type > MAX_V1_FIELD_TYPE) return -1;
    if (k >= width && (size !== 0 || type !== 0)) return -1;
    total += size;
  }
  if (allZero) return -1;
  if (total >= MAX_RECORD_SIZE || total > byteLengthLeft) return -1;
  return total;
}
