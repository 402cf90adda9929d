// Index block payload (frame kind 3): 48-byte head, record entries, annotation entries
// [IDX-1..IDX-9]. Entry sizes are stored so a newer minor can grow entries; readers use the
// first 64 / 24 bytes of each and skip the rest.
import { FormatError, invalidParameterError } from '../errors.ts';
import { isU32, isU64Safe, isUint, readU64, viewOf, writeU64 } from './bytes.ts';
import type { ErrorPlace } from './bytes.ts';
import { FRAME, FieldKind, INDEX, INDEX_ANNOTATION_ENTRY, INDEX_RECORD_ENTRY, LIMITS } from './layout.ts';
import type { DecodedRecord, IndexAnnotationEntry, IndexBlock, IndexRecordEntry } from './types.ts';

const SECTION = 'index';
const R = INDEX_RECORD_ENTRY;
const A = INDEX_ANNOTATION_ENTRY;

function checkBlock(block: IndexBlock): void {
  if (typeof block !== 'object' || block === null) throw invalidParameterError('block', 'an object', block);
  if (!isU64Safe(block.firstRecordIndex)) throw invalidParameterError('block.firstRecordIndex', 'an integer between 0 and 2^53-1', block.firstRecordIndex);
  if (block.metadataOffset !== undefined && !isU64Safe(block.metadataOffset)) throw invalidParameterError('block.metadataOffset', 'an integer between 0 and 2^53-1', block.metadataOffset);
  if (!isU64Safe(block.previousIndexOffset)) throw invalidParameterError('block.previousIndexOffset', 'an integer between 0 and 2^53-1', block.previousIndexOffset);
  if (!Array.isArray(block.records)) throw invalidParameterError('block.records', 'an array', block.records);
  if (!Array.isArray(block.annotations)) throw invalidParameterError('block.annotations', 'an array', block.annotations);
  block.records.forEach((e, i) => {
    const name = `block.records[${i}]`;
    for (const key of ['frameOffset', 'id'] as const) if (!isU64Safe(e[key])) throw invalidParameterError(`${name}.${key}`, 'an integer between 0 and 2^53-1', e[key]);
    for (const key of ['payloadByteLength', 'payloadCrc', 'width', 'height'] as const) if (!isU32(e[key])) throw invalidParameterError(`${name}.${key}`, 'a u32 integer', e[key]);
    if (typeof e.label !== 'number') throw invalidParameterError(`${name}.label`, 'a number', e.label);
    if (typeof e.label2 !== 'number') throw invalidParameterError(`${name}.label2`, 'a number', e.label2);
    if (!isUint(e.fieldCount, LIMITS.maxFields)) throw invalidParameterError(`${name}.fieldCount`, `an integer between 0 and ${LIMITS.maxFields}`, e.fieldCount);
    if (!isUint(e.firstImageCodec, 255)) throw invalidParameterError(`${name}.firstImageCodec`, 'a u8 integer', e.firstImageCodec);
    if (!isUint(e.entryFlags, 255)) throw invalidParameterError(`${name}.entryFlags`, 'a u8 integer', e.entryFlags);
  });
  block.annotations.forEach((e, i) => {
    const name = `block.annotations[${i}]`;
    for (const key of ['recordIndex', 'frameOffset'] as const) if (!isU64Safe(e[key])) throw invalidParameterError(`${name}.${key}`, 'an integer between 0 and 2^53-1', e[key]);
    for (const key of ['payloadByteLength', 'payloadCrc'] as const) if (!isU32(e[key])) throw invalidParameterError(`${name}.${key}`, 'a u32 integer', e[key]);
  });
}

/** Byte length of an index block payload with the given numbers of record and annotation entries. [IDX-3] */
export function indexPayloadByteLength(recordCount: number, annotationCount: number): number {
  return INDEX.headByteLength + R.byteLength * recordCount + A.byteLength * annotationCount;
}

/**
 * Encode an index block payload: the 48-byte head, the record entries, then the annotation entries.
 * @throws TypeError when an entry field is out of range or the block does not fit one frame.
 */
export function encodeIndexPayload(block: IndexBlock): Uint8Array {
  checkBlock(block);
  const total = indexPayloadByteLength(block.records.length, block.annotations.length);
  if (total > LIMITS.maxFramePayloadBytes) throw invalidParameterError('block', 'an index block that fits a frame', block);
  const bytes = new Uint8Array(total);
  const view = viewOf(bytes);
  writeU64(view, INDEX.firstRecordIndex.offset, block.firstRecordIndex);
  writeU64(view, INDEX.recordCount.offset, block.records.length);
  writeU64(view, INDEX.annotationEntryCount.offset, block.annotations.length);
  writeU64(view, INDEX.previousIndexOffset.offset, block.previousIndexOffset);
  writeU64(view, INDEX.metadataOffset.offset, block.metadataOffset ?? 0);
  view.setUint32(INDEX.recordEntryByteLength.offset, R.byteLength, true);
  view.setUint32(INDEX.annotationEntryByteLength.offset, A.byteLength, true);
  let o = INDEX.headByteLength;
  for (const e of block.records) {
    writeU64(view, o + R.frameOffset.offset, e.frameOffset);
    view.setUint32(o + R.payloadByteLength.offset, e.payloadByteLength, true);
    view.setUint32(o + R.payloadCrc.offset, e.payloadCrc, true);
    writeU64(view, o + R.id.offset, e.id);
    view.setFloat64(o + R.label.offset, e.label, true);
    view.setFloat64(o + R.label2.offset, e.label2, true);
    view.setUint32(o + R.width.offset, e.width, true);
    view.setUint32(o + R.height.offset, e.height, true);
    view.setUint16(o + R.fieldCount.offset, e.fieldCount, true);
    view.setUint8(o + R.firstImageCodec.offset, e.firstImageCodec);
    view.setUint8(o + R.entryFlags.offset, e.entryFlags);
    o += R.byteLength;
  }
  for (const e of block.annotations) {
    writeU64(view, o + A.recordIndex.offset, e.recordIndex);
    writeU64(view, o + A.frameOffset.offset, e.frameOffset);
    view.setUint32(o + A.payloadByteLength.offset, e.payloadByteLength, true);
    view.setUint32(o + A.payloadCrc.offset, e.payloadCrc, true);
    o += A.byteLength;
  }
  return bytes;
}

/** Decode an index payload (`byteOffset` = absolute offset of the payload, i.e. frame offset + 16). Counts are checked against the payload length before any entry is read. */
export function decodeIndexPayload(payload: Uint8Array, byteOffset: number): IndexBlock {
  const place: ErrorPlace = { section: SECTION, byteOffset };
  if (payload.length < INDEX.headByteLength) {
    throw new FormatError('index payload shorter than its head', { ...place, expected: `>= ${INDEX.headByteLength} bytes`, actual: payload.length });
  }
  const view = viewOf(payload);
  const firstRecordIndex = readU64(view, INDEX.firstRecordIndex.offset, 'first record index', place);
  const recordCount = readU64(view, INDEX.recordCount.offset, 'record count', place);
  const annotationCount = readU64(view, INDEX.annotationEntryCount.offset, 'annotation entry count', place);
  const previousIndexOffset = readU64(view, INDEX.previousIndexOffset.offset, 'previous index offset', place);
  const metadataOffset = readMetadataOffset(view, byteOffset);
  const recordEntryByteLength = view.getUint32(INDEX.recordEntryByteLength.offset, true);
  const annotationEntryByteLength = view.getUint32(INDEX.annotationEntryByteLength.offset, true);
  if (recordEntryByteLength < R.byteLength) {
    throw new FormatError('record entry length too small', { ...place, byteOffset: byteOffset + INDEX.recordEntryByteLength.offset, expected: `>= ${R.byteLength}`, actual: recordEntryByteLength });
  }
  if (annotationEntryByteLength < A.byteLength) {
    throw new FormatError('annotation entry length too small', { ...place, byteOffset: byteOffset + INDEX.annotationEntryByteLength.offset, expected: `>= ${A.byteLength}`, actual: annotationEntryByteLength });
  }
  // Doubles are exact here: both products stay far below 2^53 whenever they can match a u32 length.
  const expected = INDEX.headByteLength + recordCount * recordEntryByteLength + annotationCount * annotationEntryByteLength;
  if (expected !== payload.length) {
    throw new FormatError('index entry counts do not match the payload length', {
      ...place,
      byteOffset: byteOffset + INDEX.recordCount.offset,
      expected: payload.length,
      actual: expected,
    });
  }
  // The chain must go backwards, so it cannot loop. `byteOffset` is this payload's offset, so
  // this frame starts at byteOffset - 16 and any earlier frame ends before it. [IDX-8]
  if (previousIndexOffset !== 0 && previousIndexOffset >= byteOffset - FRAME.headerByteLength) {
    throw new FormatError('previous index offset does not point backwards', {
      ...place,
      byteOffset: byteOffset + INDEX.previousIndexOffset.offset,
      expected: `< ${byteOffset - FRAME.headerByteLength}`,
      actual: previousIndexOffset,
    });
  }
  if (firstRecordIndex + recordCount > LIMITS.maxId) {
    throw new FormatError('record indices exceed 2^53-1', { ...place, expected: `<= ${LIMITS.maxId}`, actual: firstRecordIndex + recordCount });
  }
  const records: IndexRecordEntry[] = new Array(recordCount);
  let o = INDEX.headByteLength;
  for (let i = 0; i < recordCount; i++) {
    const at: ErrorPlace = { section: SECTION, byteOffset, recordIndex: firstRecordIndex + i };
    records[i] = {
      frameOffset: readU64(view, o + R.frameOffset.offset, 'record frame offset', at),
      payloadByteLength: view.getUint32(o + R.payloadByteLength.offset, true),
      payloadCrc: view.getUint32(o + R.payloadCrc.offset, true),
      id: readU64(view, o + R.id.offset, 'record id', at),
      label: view.getFloat64(o + R.label.offset, true),
      label2: view.getFloat64(o + R.label2.offset, true),
      width: view.getUint32(o + R.width.offset, true),
      height: view.getUint32(o + R.height.offset, true),
      fieldCount: view.getUint16(o + R.fieldCount.offset, true),
      firstImageCodec: view.getUint8(o + R.firstImageCodec.offset),
      entryFlags: view.getUint8(o + R.entryFlags.offset),
    };
    o += recordEntryByteLength;
  }
  const annotations: IndexAnnotationEntry[] = new Array(annotationCount);
  for (let i = 0; i < annotationCount; i++) {
    const at: ErrorPlace = { section: SECTION, byteOffset };
    annotations[i] = {
      recordIndex: readU64(view, o + A.recordIndex.offset, 'annotation record index', at),
      frameOffset: readU64(view, o + A.frameOffset.offset, 'annotation frame offset', at),
      payloadByteLength: view.getUint32(o + A.payloadByteLength.offset, true),
      payloadCrc: view.getUint32(o + A.payloadCrc.offset, true),
    };
    // [IDX-10] One entry per record, ascending, naming a record this commit or an earlier one wrote.
    const recordIndex = annotations[i].recordIndex;
    if (recordIndex >= firstRecordIndex + recordCount) {
      throw new FormatError('annotation entry names a record that does not exist', { section: SECTION, byteOffset: byteOffset + o, recordIndex, expected: `< ${firstRecordIndex + recordCount}`, actual: recordIndex });
    }
    if (i > 0 && recordIndex <= annotations[i - 1].recordIndex) {
      throw new FormatError(recordIndex === annotations[i - 1].recordIndex ? 'duplicate annotation entry in one index block' : 'annotation entries not sorted by record index', { section: SECTION, byteOffset: byteOffset + o, recordIndex, expected: `> ${annotations[i - 1].recordIndex}`, actual: recordIndex });
    }
    o += annotationEntryByteLength;
  }
  return { firstRecordIndex, previousIndexOffset, ...(metadataOffset !== 0 ? { metadataOffset } : {}), records, annotations };
}

/**
 * The index entry for a record frame at `frameOffset`; width, height and codec come from the
 * first image field (kind 1), or are 0 when there is none. [IDX-5]
 */
export function indexEntryFromRecord(frameOffset: number, payload: Uint8Array, payloadCrc: number, record: DecodedRecord): IndexRecordEntry {
  const image = record.fields.find((f) => f.kind === FieldKind.image);
  return {
    frameOffset,
    payloadByteLength: payload.length,
    payloadCrc: payloadCrc >>> 0,
    id: record.id,
    label: record.label,
    label2: record.label2,
    width: image?.width ?? 0,
    height: image?.height ?? 0,
    fieldCount: record.fields.length,
    firstImageCodec: image?.codec ?? 0,
    entryFlags: 0,
  };
}

/**
 * The head's metadataOffset [EXT-8]: 0 or the offset of an earlier frame (a metadata frame is
 * written before the index block that names it). `payloadOffset` is the payload's offset.
 */
export function readMetadataOffset(view: DataView, payloadOffset: number): number {
  const place: ErrorPlace = { section: SECTION, byteOffset: payloadOffset };
  const metadataOffset = readU64(view, INDEX.metadataOffset.offset, 'metadata offset', place);
  if (metadataOffset !== 0 && metadataOffset >= payloadOffset - FRAME.headerByteLength) {
    throw new FormatError('metadata offset does not point backwards', { ...place, byteOffset: payloadOffset + INDEX.metadataOffset.offset, expected: `< ${payloadOffset - FRAME.headerByteLength}`, actual: metadataOffset });
  }
  return metadataOffset;
}
