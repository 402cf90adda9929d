// Record frame payload: 32-byte head, 16-byte field descriptors, then the field bytes
// concatenated in descriptor order [REC-1..REC-9]. Decoding never copies field bytes.
import { FormatError, invalidParameterError } from '../errors.ts';
import { isU32, isU64Safe, isUint, readU64, viewOf, writeU64 } from './bytes.ts';
import { FIELD, FieldKind, LIMITS, RECORD, RECORD_FLAG_ANNOTATION_FOLLOWS } from './layout.ts';
import type { FieldKindCode } from './layout.ts';
import { decodeTensor, isTensorDType } from './tensor.ts';
import type { DecodedRecord, Field } from './types.ts';

const SECTION = 'record';

/** True when `kind` is one of the four FieldKind codes. */
export function isFieldKind(kind: unknown): kind is FieldKindCode {
  return kind === FieldKind.image || kind === FieldKind.label || kind === FieldKind.tensor || kind === FieldKind.bytes;
}

function checkRecord(record: DecodedRecord): void {
  if (typeof record !== 'object' || record === null) throw invalidParameterError('record', 'an object', record);
  if (!isU64Safe(record.id)) throw invalidParameterError('record.id', 'an integer between 0 and 2^53-1', record.id);
  if (typeof record.label !== 'number') throw invalidParameterError('record.label', 'a number', record.label);
  if (typeof record.label2 !== 'number') throw invalidParameterError('record.label2', 'a number', record.label2);
  if (!Array.isArray(record.fields) || record.fields.length > LIMITS.maxFields) {
    throw invalidParameterError('record.fields', `an array of at most ${LIMITS.maxFields} fields`, record.fields);
  }
  record.fields.forEach((f, i) => {
    const name = `record.fields[${i}]`;
    if (typeof f !== 'object' || f === null) throw invalidParameterError(name, 'an object', f);
    if (!isFieldKind(f.kind)) throw invalidParameterError(`${name}.kind`, 'a FieldKind code 1..4', f.kind);
    if (!isUint(f.codec, 255)) throw invalidParameterError(`${name}.codec`, 'an integer between 0 and 255', f.codec);
    if (f.kind === FieldKind.tensor && !isTensorDType(f.codec)) {
      throw invalidParameterError(`${name}.codec`, 'a TensorDType code 1..8 for a tensor field', f.codec);
    }
    if (!(f.bytes instanceof Uint8Array)) throw invalidParameterError(`${name}.bytes`, 'a Uint8Array', f.bytes);
    if (!isU32(f.width)) throw invalidParameterError(`${name}.width`, 'a u32 integer', f.width);
    if (!isU32(f.height)) throw invalidParameterError(`${name}.height`, 'a u32 integer', f.height);
  });
}

/** Byte length of the payload `encodeRecordPayload(record)` returns. */
export function recordPayloadByteLength(record: DecodedRecord): number {
  let total = RECORD.headByteLength + FIELD.byteLength * record.fields.length;
  for (const f of record.fields) total += f.bytes.length;
  return total;
}

/**
 * Validate `record` for encoding (tensor fields by decoding their bytes) and return its payload
 * byte length. Writers that encode in place call this, then writeRecordPayload().
 */
export function checkRecordPayload(record: DecodedRecord): number {
  checkRecord(record);
  const total = recordPayloadByteLength(record);
  if (total > LIMITS.maxFramePayloadBytes) {
    throw invalidParameterError('record', `a payload of at most ${LIMITS.maxFramePayloadBytes} bytes`, record);
  }
  record.fields.forEach((f, i) => {
    if (f.kind === FieldKind.tensor) {
      try {
        decodeTensor(f.bytes, 0, f.codec as never);
      } catch {
        throw invalidParameterError(`record.fields[${i}].bytes`, 'tensor bytes (see encodeTensor)', f.bytes);
      }
    }
  });
  return total;
}

/**
 * Write the payload of a record already checked by checkRecordPayload() into `target` at
 * `offset` (recordPayloadByteLength(record) bytes; reserved bytes written as zero). `view`, when
 * given, must span all of `target` (saves a DataView per record).
 */
export function writeRecordPayload(record: DecodedRecord, target: Uint8Array, offset: number, view = viewOf(target), recordFlags = 0): void {
  const fieldCount = record.fields.length;
  writeU64(view, offset + RECORD.id.offset, record.id);
  view.setFloat64(offset + RECORD.label.offset, record.label, true);
  view.setFloat64(offset + RECORD.label2.offset, record.label2, true);
  view.setUint16(offset + RECORD.fieldCount.offset, fieldCount, true);
  view.setUint16(offset + RECORD.recordFlags.offset, recordFlags, true);
  view.setUint32(offset + RECORD.reserved.offset, 0, true);
  let descriptor = offset + RECORD.headByteLength;
  let data = descriptor + FIELD.byteLength * fieldCount;
  for (let i = 0; i < fieldCount; i++) {
    const f = record.fields[i];
    view.setUint8(descriptor + FIELD.kind.offset, f.kind);
    view.setUint8(descriptor + FIELD.codec.offset, f.codec);
    view.setUint16(descriptor + FIELD.fieldFlags.offset, 0, true);
    view.setUint32(descriptor + FIELD.byteLength_.offset, f.bytes.length, true);
    view.setUint32(descriptor + FIELD.width.offset, f.width, true);
    view.setUint32(descriptor + FIELD.height.offset, f.height, true);
    target.set(f.bytes, data);
    descriptor += FIELD.byteLength;
    data += f.bytes.length;
  }
}

/** Encode a record payload. Tensor fields are validated by decoding their bytes. */
export function encodeRecordPayload(record: DecodedRecord, recordFlags = 0): Uint8Array {
  const bytes = new Uint8Array(checkRecordPayload(record));
  writeRecordPayload(record, bytes, 0, viewOf(bytes), recordFlags);
  return bytes;
}

/**
 * Decode a record payload (`byteOffset` = absolute offset of the payload's first byte). Field
 * bytes are subarray views of `payload`. The field lengths must add up to the payload exactly.
 */
export function decodeRecordPayload(payload: Uint8Array, byteOffset: number, recordIndex?: number): DecodedRecord {
  const place = { section: SECTION, byteOffset, recordIndex };
  if (payload.length < RECORD.headByteLength) {
    throw new FormatError('record payload shorter than its head', { ...place, expected: `>= ${RECORD.headByteLength} bytes`, actual: payload.length });
  }
  const view = viewOf(payload);
  const id = readU64(view, RECORD.id.offset, 'record id', place);
  const label = view.getFloat64(RECORD.label.offset, true);
  const label2 = view.getFloat64(RECORD.label2.offset, true);
  const fieldCount = view.getUint16(RECORD.fieldCount.offset, true);
  if (fieldCount > LIMITS.maxFields) {
    throw new FormatError('too many fields', { ...place, byteOffset: byteOffset + RECORD.fieldCount.offset, expected: `<= ${LIMITS.maxFields}`, actual: fieldCount });
  }
  const descriptorsEnd = RECORD.headByteLength + FIELD.byteLength * fieldCount;
  if (descriptorsEnd > payload.length) {
    throw new FormatError('field descriptors overrun the payload', {
      ...place,
      byteOffset: byteOffset + RECORD.fieldCount.offset,
      expected: `>= ${descriptorsEnd} payload bytes for ${fieldCount} fields`,
      actual: payload.length,
    });
  }
  // Sum the lengths first, so no view is made before the whole layout is known to fit. [REC-6]
  let sum = 0;
  for (let i = 0; i < fieldCount; i++) sum += view.getUint32(RECORD.headByteLength + FIELD.byteLength * i + FIELD.byteLength_.offset, true);
  if (sum !== payload.length - descriptorsEnd) {
    throw new FormatError('field lengths do not match the payload length', {
      ...place,
      byteOffset: byteOffset + RECORD.headByteLength,
      expected: payload.length - descriptorsEnd,
      actual: sum,
    });
  }
  const fields: Field[] = [];
  let data = descriptorsEnd;
  for (let i = 0; i < fieldCount; i++) {
    const d = RECORD.headByteLength + FIELD.byteLength * i;
    const kind = view.getUint8(d + FIELD.kind.offset);
    const codec = view.getUint8(d + FIELD.codec.offset);
    if (!isFieldKind(kind)) {
      throw new FormatError(`unknown field kind in field ${i}`, { ...place, byteOffset: byteOffset + d, expected: '1..4', actual: kind });
    }
    const byteLength = view.getUint32(d + FIELD.byteLength_.offset, true);
    const bytes = payload.subarray(data, data + byteLength);
    if (kind === FieldKind.tensor) decodeTensor(bytes, byteOffset + data, codec as never, recordIndex);
    fields.push({
      kind,
      codec,
      bytes,
      width: view.getUint32(d + FIELD.width.offset, true),
      height: view.getUint32(d + FIELD.height.offset, true),
    });
    data += byteLength;
  }
  return { id, label, label2, fields };
}

/** recordFlags bit 0 of a record payload (at least 32 bytes): its annotation frame follows it. [REC-11] */
export function annotationFollows(payload: Uint8Array): boolean {
  return payload.length >= RECORD.headByteLength && (payload[RECORD.recordFlags.offset] & RECORD_FLAG_ANNOTATION_FOLLOWS) !== 0;
}
