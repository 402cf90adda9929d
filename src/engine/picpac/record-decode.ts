// Turn the bytes of a record frame (or annotation frame) read at an index entry into a
// StoredRecord, checking the frame against the entry: kind, length, CRC and, when asked, the
// payload CRC. Any disagreement is a FormatError naming the record and the byte offset.
import { FormatError } from '../../errors.ts';
import { decodeAnnotationPayload } from '../../format/annotation.ts';
import { fieldKindName, fieldTypeName } from '../../format/field-type.ts';
import { crc32c, crc32cRange } from '../../format/crc32c.ts';
import { checkFramePayload, decodeFrameHeader } from '../../format/frame.ts';
import { hex32 } from '../../format/header.ts';
import { FIELD, FRAME, FRAME_MAGIC, FieldKind, FrameKind, LIMITS, RECORD } from '../../format/layout.ts';
import { decodeRecordPayload } from '../../format/record.ts';
import type { FrameHeader } from '../../format/types.ts';
import type { RecordIndex } from './record-index.ts';
import type { FieldKindName, StoredField, StoredRecord } from '../store.ts';

const FRAME_HEADER_BYTES = FRAME.headerByteLength;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function checkFrameAgainstEntry(
  bytes: Uint8Array,
  frameOffset: number,
  kind: number,
  payloadByteLength: number,
  payloadCrc: number,
  recordIndex: number,
  maxPayloadBytes: number,
): FrameHeader {
  if (bytes.length < FRAME_HEADER_BYTES + payloadByteLength) {
    throw new FormatError('frame truncated (file shorter than the index says)', {
      section: 'frame',
      byteOffset: frameOffset,
      recordIndex,
      expected: `${FRAME_HEADER_BYTES + payloadByteLength} bytes`,
      actual: bytes.length,
    });
  }
  const header = decodeFrameHeader(bytes, frameOffset, { maxPayloadBytes, recordIndex });
  if (header.kind !== kind) {
    throw new FormatError('index entry points at a frame of another kind', { section: 'index', byteOffset: frameOffset + FRAME.kind.offset, recordIndex, expected: kind, actual: header.kind });
  }
  if (header.payloadByteLength !== payloadByteLength) {
    throw new FormatError('frame length disagrees with the index', { section: 'index', byteOffset: frameOffset + FRAME.payloadByteLength.offset, recordIndex, expected: payloadByteLength, actual: header.payloadByteLength });
  }
  if (header.payloadCrc >>> 0 !== payloadCrc >>> 0) {
    throw new FormatError('frame CRC disagrees with the index', { section: 'index', byteOffset: frameOffset + FRAME.payloadCrc.offset, recordIndex, expected: hex32(payloadCrc), actual: hex32(header.payloadCrc) });
  }
  return header;
}

/** The index's metadata for a record plus its decoded fields (the annotation is read separately). */
function storedRecord(ix: RecordIndex, recordIndex: number, fields: StoredField[]): StoredRecord {
  const record = ix.meta(recordIndex) as StoredRecord;
  record.fields = fields;
  record.annotation = undefined;
  return record;
}

/** Decode the record frame at the start of `bytes` for index entry `recordIndex`. Field bytes are views. */
export function decodeStoredRecord(bytes: Uint8Array, ix: RecordIndex, recordIndex: number, verifyChecksums: boolean, maxRecordBytes: number): StoredRecord {
  const frameOffset = ix.frameOffset[recordIndex];
  const payloadByteLength = ix.payloadByteLength[recordIndex];
  const header = checkFrameAgainstEntry(bytes, frameOffset, FrameKind.record, payloadByteLength, ix.payloadCrc[recordIndex], recordIndex, maxRecordBytes);
  const payload = bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + payloadByteLength);
  if (verifyChecksums) checkFramePayload(header, payload, frameOffset, recordIndex);
  const decoded = decodeRecordPayload(payload, frameOffset + FRAME_HEADER_BYTES, recordIndex);
  const fields = decoded.fields.map((f) => ({
    kind: fieldKindName(f.kind),
    type: fieldTypeName(f.kind, f.codec),
    codec: f.codec,
    bytes: f.bytes,
    width: f.width,
    height: f.height,
  }));
  return storedRecord(ix, recordIndex, fields);
}

/** Decode the annotation frame at the start of `bytes` for record `recordIndex` (undefined = removed). */
export function decodeAnnotationFrame(bytes: Uint8Array, ix: RecordIndex, recordIndex: number, verifyChecksums: boolean, maxAnnotationBytes: number): string | undefined {
  const frameOffset = ix.annotationOffset[recordIndex];
  const payloadByteLength = ix.annotationByteLength[recordIndex];
  const header = checkFrameAgainstEntry(bytes, frameOffset, FrameKind.annotation, payloadByteLength, ix.annotationCrc[recordIndex], recordIndex, maxAnnotationBytes);
  const payload = bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + payloadByteLength);
  if (verifyChecksums) checkFramePayload(header, payload, frameOffset, recordIndex);
  const annotation = decodeAnnotationPayload(payload, frameOffset + FRAME_HEADER_BYTES);
  // A recovered store renumbers records after dropped ones; the frame names the original number.
  const named = ix.originalIndex?.get(recordIndex) ?? recordIndex;
  if (annotation.recordIndex !== named) {
    throw new FormatError('annotation frame names another record', { section: 'annotation', byteOffset: frameOffset + FRAME_HEADER_BYTES, recordIndex, expected: named, actual: annotation.recordIndex });
  }
  return decodeAnnotationText(annotation.text, frameOffset + FRAME_HEADER_BYTES + 16, recordIndex);
}

export function decodeAnnotationText(text: Uint8Array, byteOffset: number, recordIndex?: number): string | undefined {
  if (text.length === 0) return undefined;
  try {
    return utf8.decode(text);
  } catch {
    throw new FormatError('annotation text is not valid UTF-8', { section: 'annotation', byteOffset, recordIndex });
  }
}

const KIND_NAMES: Array<FieldKindName | undefined> = [undefined, 'image', 'label', undefined, 'bytes'];
const typeNames = new Map<number, string>();

function typeName(kind: number, codec: number): string {
  const key = (kind << 8) | codec;
  let name = typeNames.get(key);
  if (name === undefined) typeNames.set(key, (name = fieldTypeName(kind as 1, codec)));
  return name;
}

/**
 * The scan's lean path: decode the record frame at `at` in a chunk (`view` spans `bytes`) with
 * the same checks as decodeStoredRecord — magic, header CRC, kind, length and CRC against the
 * index entry, payload CRC when asked, field layout [REC-6] — but no intermediate objects.
 * Returns undefined for anything it does not handle (a tensor field, a failed check, a frame
 * past the chunk or over the limit): the caller then runs decodeStoredRecord, which validates
 * tensors or throws the precise FormatError.
 */
export function decodeScannedRecord(bytes: Uint8Array, view: DataView, at: number, ix: RecordIndex, recordIndex: number, verifyChecksums: boolean, maxRecordBytes: number): StoredRecord | undefined {
  const i = recordIndex;
  const payloadByteLength = ix.payloadByteLength[i];
  const p = at + FRAME_HEADER_BYTES;
  const payloadEnd = p + payloadByteLength;
  if (payloadEnd > bytes.length || payloadByteLength > maxRecordBytes || payloadByteLength < RECORD.headByteLength) return undefined;
  if (view.getUint16(at, true) !== FRAME_MAGIC || bytes[at + FRAME.kind.offset] !== FrameKind.record) return undefined;
  if (view.getUint32(at + FRAME.payloadByteLength.offset, true) !== payloadByteLength) return undefined;
  const payloadCrc = view.getUint32(at + FRAME.payloadCrc.offset, true);
  if (payloadCrc !== ix.payloadCrc[i]) return undefined;
  if (view.getUint32(at + FRAME.headerCrc.offset, true) !== crc32cRange(bytes, at, at + FRAME.headerCrc.offset)) return undefined;
  if (verifyChecksums && crc32c(bytes.subarray(p, payloadEnd)) !== payloadCrc) return undefined;
  if (view.getUint32(p + RECORD.id.offset + 4, true) > 0x1fffff) return undefined; // id > 2^53-1 [CNV-2]
  const fieldCount = view.getUint16(p + RECORD.fieldCount.offset, true);
  if (fieldCount > LIMITS.maxFields) return undefined;
  let data = p + RECORD.headByteLength + FIELD.byteLength * fieldCount;
  if (data > payloadEnd) return undefined;
  let sum = 0;
  for (let d = p + RECORD.headByteLength; d < data; d += FIELD.byteLength) {
    const kind = bytes[d];
    if (kind !== FieldKind.image && kind !== FieldKind.label && kind !== FieldKind.bytes) return undefined;
    sum += view.getUint32(d + FIELD.byteLength_.offset, true);
  }
  if (sum !== payloadEnd - data) return undefined;
  const fields: StoredField[] = new Array(fieldCount);
  for (let k = 0, d = p + RECORD.headByteLength; k < fieldCount; k++, d += FIELD.byteLength) {
    const kind = bytes[d];
    const codec = bytes[d + FIELD.codec.offset];
    const byteLength = view.getUint32(d + FIELD.byteLength_.offset, true);
    fields[k] = {
      kind: KIND_NAMES[kind] as FieldKindName,
      type: typeName(kind, codec),
      codec,
      bytes: bytes.subarray(data, data + byteLength),
      width: view.getUint32(d + FIELD.width.offset, true),
      height: view.getUint32(d + FIELD.height.offset, true),
    };
    data += byteLength;
  }
  return storedRecord(ix, i, fields);
}
