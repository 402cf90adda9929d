// Decode an index block payload straight into RecordIndex columns. The format codec
// (decodeIndexPayload) builds one object per entry, which is fine for tests and tools but too
// slow for a million-record open; this walks the same layout.ts table with one DataView.
import { FormatError } from '../../errors.ts';
import { readU64 } from '../../format/bytes.ts';
import { INDEX, INDEX_ANNOTATION_ENTRY, INDEX_RECORD_ENTRY } from '../../format/layout.ts';
import type { RecordIndex } from './record-index.ts';

export interface IndexBlockHead {
  firstRecordIndex: number;
  recordCount: number;
  annotationEntryCount: number;
  previousIndexOffset: number;
  recordEntryByteLength: number;
  annotationEntryByteLength: number;
}

const SECTION = 'index';

/** Decode and bounds-check the 48-byte head of an index payload. */
export function decodeIndexHead(payload: Uint8Array, payloadOffset: number): IndexBlockHead {
  if (payload.length < INDEX.headByteLength) {
    throw new FormatError('index payload shorter than its head', {
      section: SECTION,
      byteOffset: payloadOffset,
      expected: `>= ${INDEX.headByteLength}`,
      actual: payload.length,
    });
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const place = { section: SECTION, byteOffset: payloadOffset };
  const head: IndexBlockHead = {
    firstRecordIndex: readU64(view, INDEX.firstRecordIndex.offset, 'firstRecordIndex', place),
    recordCount: readU64(view, INDEX.recordCount.offset, 'recordCount', place),
    annotationEntryCount: readU64(view, INDEX.annotationEntryCount.offset, 'annotationEntryCount', place),
    previousIndexOffset: readU64(view, INDEX.previousIndexOffset.offset, 'previousIndexOffset', place),
    recordEntryByteLength: view.getUint32(INDEX.recordEntryByteLength.offset, true),
    annotationEntryByteLength: view.getUint32(INDEX.annotationEntryByteLength.offset, true),
  };
  if (head.recordEntryByteLength < INDEX_RECORD_ENTRY.byteLength) {
    throw new FormatError('record entry size too small', {
      ...place,
      byteOffset: payloadOffset + INDEX.recordEntryByteLength.offset,
      expected: `>= ${INDEX_RECORD_ENTRY.byteLength}`,
      actual: head.recordEntryByteLength,
    });
  }
  if (head.annotationEntryByteLength < INDEX_ANNOTATION_ENTRY.byteLength) {
    throw new FormatError('annotation entry size too small', {
      ...place,
      byteOffset: payloadOffset + INDEX.annotationEntryByteLength.offset,
      expected: `>= ${INDEX_ANNOTATION_ENTRY.byteLength}`,
      actual: head.annotationEntryByteLength,
    });
  }
  const need =
    INDEX.headByteLength +
    head.recordCount * head.recordEntryByteLength +
    head.annotationEntryCount * head.annotationEntryByteLength;
  if (need !== payload.length) {
    throw new FormatError('index payload length does not match its entry counts', {
      section: SECTION,
      byteOffset: payloadOffset,
      expected: need,
      actual: payload.length,
    });
  }
  return head;
}

/** A u64 that must be ≤ 2^53-1, read without allocating (readU64 builds the error). */
function u64(view: DataView, offset: number, name: string, entryOffset: number, recordIndex: number): number {
  const high = view.getUint32(offset + 4, true);
  if (high > 0x1fffff) readU64(view, offset, name, { section: SECTION, byteOffset: entryOffset, recordIndex });
  return high * 0x1_0000_0000 + view.getUint32(offset, true);
}

export interface ApplyIndexOptions {
  /** Record frames must lie in [firstFrameOffset, endOffset). */
  firstFrameOffset: number;
  endOffset: number;
}

/**
 * Apply one block (already CRC-checked) to `index`. Blocks are applied oldest first; a block
 * must continue the record numbering exactly (firstRecordIndex = records so far).
 */
export function applyIndexBlock(
  index: RecordIndex,
  payload: Uint8Array,
  payloadOffset: number,
  options: ApplyIndexOptions,
): IndexBlockHead {
  const head = decodeIndexHead(payload, payloadOffset);
  if (head.firstRecordIndex !== index.recordCount) {
    throw new FormatError('index block does not continue the record numbering', {
      section: SECTION,
      byteOffset: payloadOffset + INDEX.firstRecordIndex.offset,
      expected: index.recordCount,
      actual: head.firstRecordIndex,
    });
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const E = INDEX_RECORD_ENTRY;
  index.reserve(head.firstRecordIndex + head.recordCount);
  let at = INDEX.headByteLength;
  for (let k = 0; k < head.recordCount; k++, at += head.recordEntryByteLength) {
    const recordIndex = head.firstRecordIndex + k;
    // u64 fields read inline (a million-entry open); readU64 only to throw the precise error. [CNV-2]
    const frameOffset = u64(view, at + E.frameOffset.offset, 'frameOffset', payloadOffset + at, recordIndex);
    const payloadByteLength = view.getUint32(at + E.payloadByteLength.offset, true);
    if (frameOffset < options.firstFrameOffset || frameOffset + 16 + payloadByteLength > options.endOffset) {
      throw new FormatError('record entry points outside the file', {
        section: SECTION,
        byteOffset: payloadOffset + at,
        recordIndex,
        expected: `a frame within [${options.firstFrameOffset}, ${options.endOffset})`,
        actual: `${frameOffset}+${16 + payloadByteLength}`,
      });
    }
    const i = recordIndex;
    index.frameOffset[i] = frameOffset;
    index.payloadByteLength[i] = payloadByteLength;
    index.payloadCrc[i] = view.getUint32(at + E.payloadCrc.offset, true);
    index.id[i] = u64(view, at + E.id.offset, 'id', payloadOffset + at, recordIndex);
    index.label[i] = view.getFloat64(at + E.label.offset, true);
    index.label2[i] = view.getFloat64(at + E.label2.offset, true);
    index.width[i] = view.getUint32(at + E.width.offset, true);
    index.height[i] = view.getUint32(at + E.height.offset, true);
    index.fieldCount[i] = view.getUint16(at + E.fieldCount.offset, true);
    index.imageCodec[i] = view.getUint8(at + E.firstImageCodec.offset);
    index.entryFlags[i] = view.getUint8(at + E.entryFlags.offset);
    // Slots re-applied after a live reader scanned ahead may hold annotations: clear them.
    if (index.annotationOffset[i] !== 0) index.setAnnotation(i, 0, 0, 0, false);
  }
  index.recordCount = head.firstRecordIndex + head.recordCount;
  const A = INDEX_ANNOTATION_ENTRY;
  let previousRecordIndex = -1;
  for (let k = 0; k < head.annotationEntryCount; k++, at += head.annotationEntryByteLength) {
    const place = { section: SECTION, byteOffset: payloadOffset + at };
    const recordIndex = readU64(view, at + A.recordIndex.offset, 'recordIndex', place);
    const frameOffset = readU64(view, at + A.frameOffset.offset, 'frameOffset', place);
    const payloadByteLength = view.getUint32(at + A.payloadByteLength.offset, true);
    if (recordIndex >= index.recordCount) {
      throw new FormatError('annotation entry names a record that does not exist', {
        ...place,
        expected: `< ${index.recordCount}`,
        actual: recordIndex,
      });
    }
    // One entry per record, ascending: a duplicate or out-of-order entry is a format error. [IDX-10]
    if (recordIndex <= previousRecordIndex) {
      throw new FormatError(recordIndex === previousRecordIndex ? 'duplicate annotation entry in one index block' : 'annotation entries not sorted by record index', {
        ...place,
        recordIndex,
        expected: `> ${previousRecordIndex}`,
        actual: recordIndex,
      });
    }
    previousRecordIndex = recordIndex;
    // An annotation frame comes after the record frame it names. [ANN-5]
    if (frameOffset !== 0 && frameOffset < index.frameOffset[recordIndex]) {
      throw new FormatError('annotation frame precedes the frame of its record', {
        section: 'annotation',
        byteOffset: frameOffset,
        recordIndex,
        expected: `an annotation frame after byte ${index.frameOffset[recordIndex]}`,
        actual: frameOffset,
      });
    }
    if (frameOffset !== 0 && (frameOffset < options.firstFrameOffset || frameOffset + 16 + payloadByteLength > options.endOffset)) {
      throw new FormatError('annotation entry points outside the file', {
        ...place,
        recordIndex,
        expected: `a frame within [${options.firstFrameOffset}, ${options.endOffset})`,
        actual: `${frameOffset}+${16 + payloadByteLength}`,
      });
    }
    index.setAnnotation(recordIndex, frameOffset, payloadByteLength, view.getUint32(at + A.payloadCrc.offset, true), frameOffset !== 0);
  }
  return head;
}
