// In-memory index of a format 2.0 file as typed-array columns: one growable column per field,
// never one JS object per record, so a million-record file opens in milliseconds and costs
// ~80 bytes per record. Shared by the reader (strict open, recovery, refresh) and the writer
// (append mode starts from the reader's index).
import { FRAME } from '../../format/layout.ts';
import type { IndexAnnotationEntry, IndexRecordEntry } from '../../format/types.ts';
import type { RecordMeta } from '../store.ts';

const INITIAL_CAPACITY = 64;

/** The per-record columns of a {@link RecordIndex}, in declaration order. */
const COLUMN_NAMES = [
  'frameOffset', 'payloadByteLength', 'payloadCrc', 'id', 'label', 'label2', 'width', 'height',
  'fieldCount', 'imageCodec', 'entryFlags', 'annotationOffset', 'annotationByteLength', 'annotationCrc',
] as const;
type ColumnName = (typeof COLUMN_NAMES)[number];
type Column = Float64Array | Uint32Array | Uint16Array | Uint8Array;

/**
 * A {@link RecordIndex} in shared memory (RecordIndex.share): structured-cloneable, and another
 * thread that receives it reads the same columns instead of a copy (RecordIndex.fromShared).
 */
export interface SharedRecordIndex {
  recordCount: number;
  annotatedCount: number;
  metadataOffset: number;
  /** Each column trimmed to recordCount (at least 1 element), on its own SharedArrayBuffer. */
  columns: Record<ColumnName, Column>;
  originalIndex: Map<number, number> | undefined;
}

/**
 * The in-memory index of a .picpac 2.0 file: one typed-array column per index-entry field
 * (about 80 bytes per record, no object per record). {@link PicpacReader.columns} exposes it.
 * Methods do not check `recordIndex`: callers pass 0..recordCount-1.
 */
export class RecordIndex {
  recordCount = 0;
  /** Records whose newest annotation is non-empty. */
  annotatedCount = 0;
  /** Frame offset of the file's newest metadata frame, 0 = none. [EXT-8] */
  metadataOffset = 0;
  frameOffset: Float64Array;
  payloadByteLength: Uint32Array;
  payloadCrc: Uint32Array;
  id: Float64Array;
  label: Float64Array;
  label2: Float64Array;
  width: Uint32Array;
  height: Uint32Array;
  fieldCount: Uint16Array;
  imageCodec: Uint8Array;
  entryFlags: Uint8Array;
  /** Annotation frame offset, 0 = no annotation (a frame can never start at 0: the header is there). */
  annotationOffset: Float64Array;
  annotationByteLength: Uint32Array;
  annotationCrc: Uint32Array;
  /**
   * Recovered stores only: record index → the index the file's frames give it, where they differ
   * (records after a dropped one are renumbered; annotation frames name the original number).
   */
  originalIndex: Map<number, number> | undefined;

  constructor(capacity = INITIAL_CAPACITY) {
    const c = Math.max(1, capacity);
    this.frameOffset = new Float64Array(c);
    this.payloadByteLength = new Uint32Array(c);
    this.payloadCrc = new Uint32Array(c);
    this.id = new Float64Array(c);
    this.label = new Float64Array(c);
    this.label2 = new Float64Array(c);
    this.width = new Uint32Array(c);
    this.height = new Uint32Array(c);
    this.fieldCount = new Uint16Array(c);
    this.imageCodec = new Uint8Array(c);
    this.entryFlags = new Uint8Array(c);
    this.annotationOffset = new Float64Array(c);
    this.annotationByteLength = new Uint32Array(c);
    this.annotationCrc = new Uint32Array(c);
  }

  /**
   * The columns copied once into shared memory, for worker threads that read this file (a stream's
   * workers then neither reopen the index nor hold a copy of it each).
   */
  share(): SharedRecordIndex {
    const n = this.recordCount;
    return {
      recordCount: n, annotatedCount: this.annotatedCount, metadataOffset: this.metadataOffset,
      columns: this.copiedColumns(Math.max(1, n), n, true), originalIndex: this.originalIndex,
    };
  }

  /**
   * An index over shared columns (from share(), possibly in another thread). Its columns are read
   * in place: call {@link RecordIndex.copy} before changing it.
   */
  static fromShared(shared: SharedRecordIndex): RecordIndex {
    const index = new RecordIndex(1);
    index.adoptColumns(shared.columns);
    index.recordCount = shared.recordCount;
    index.annotatedCount = shared.annotatedCount;
    index.metadataOffset = shared.metadataOffset;
    index.originalIndex = shared.originalIndex;
    return index;
  }

  /** A private copy (own columns, same entries). */
  copy(): RecordIndex {
    const n = this.recordCount;
    return RecordIndex.fromShared({
      recordCount: n, annotatedCount: this.annotatedCount, metadataOffset: this.metadataOffset,
      columns: this.copiedColumns(Math.max(1, n), n, false), originalIndex: this.originalIndex && new Map(this.originalIndex),
    });
  }

  get capacity(): number {
    return this.frameOffset.length;
  }

  /** Make room for `recordCount` records (amortised doubling). */
  reserve(recordCount: number): void {
    if (recordCount <= this.capacity) return;
    let c = this.capacity;
    while (c < recordCount) c *= 2;
    this.adoptColumns(this.copiedColumns(c, this.capacity, false));
  }

  /** Every column in new storage of `length` elements (shared or private), its first `keep` entries copied. */
  private copiedColumns(length: number, keep: number, shared: boolean): Record<ColumnName, Column> {
    const columns = {} as Record<ColumnName, Column>;
    for (const name of COLUMN_NAMES) {
      const from = this[name];
      const Type = from.constructor as new (storage: number | SharedArrayBuffer) => Column;
      const to = new Type(shared ? new SharedArrayBuffer(length * from.BYTES_PER_ELEMENT) : length);
      to.set(from.subarray(0, keep));
      columns[name] = to;
    }
    return columns;
  }

  private adoptColumns(columns: Record<ColumnName, Column>): void {
    for (const name of COLUMN_NAMES) (this[name] as Column) = columns[name];
  }

  /** Set entry `recordIndex` (≤ recordCount: overwrite or append one). */
  setRecord(recordIndex: number, e: IndexRecordEntry): void {
    if (recordIndex >= this.recordCount) {
      this.reserve(recordIndex + 1);
      this.recordCount = recordIndex + 1;
    }
    const i = recordIndex;
    this.frameOffset[i] = e.frameOffset;
    this.payloadByteLength[i] = e.payloadByteLength;
    this.payloadCrc[i] = e.payloadCrc;
    this.id[i] = e.id;
    this.label[i] = e.label;
    this.label2[i] = e.label2;
    this.width[i] = e.width;
    this.height[i] = e.height;
    this.fieldCount[i] = e.fieldCount;
    this.imageCodec[i] = e.firstImageCodec;
    this.entryFlags[i] = e.entryFlags;
  }

  /** Apply an annotation change (frameOffset 0 or an empty payload text = removed). */
  setAnnotation(recordIndex: number, frameOffset: number, payloadByteLength: number, payloadCrc: number, live: boolean): void {
    const had = this.annotationOffset[recordIndex] !== 0;
    const has = live && frameOffset !== 0;
    this.annotationOffset[recordIndex] = has ? frameOffset : 0;
    this.annotationByteLength[recordIndex] = has ? payloadByteLength : 0;
    this.annotationCrc[recordIndex] = has ? payloadCrc : 0;
    this.annotatedCount += (has ? 1 : 0) - (had ? 1 : 0);
  }

  /** Apply an index block's annotation entry (frameOffset 0 = annotation removed). */
  applyAnnotationEntry(e: IndexAnnotationEntry): void {
    this.setAnnotation(e.recordIndex, e.frameOffset, e.payloadByteLength, e.payloadCrc, e.frameOffset !== 0);
  }

  /** The record's index entry, as an index block stores it. */
  entry(recordIndex: number): IndexRecordEntry {
    const i = recordIndex;
    return {
      frameOffset: this.frameOffset[i],
      payloadByteLength: this.payloadByteLength[i],
      payloadCrc: this.payloadCrc[i],
      id: this.id[i],
      label: this.label[i],
      label2: this.label2[i],
      width: this.width[i],
      height: this.height[i],
      fieldCount: this.fieldCount[i],
      firstImageCodec: this.imageCodec[i],
      entryFlags: this.entryFlags[i],
    };
  }

  /** The record's {@link RecordMeta}, built from the columns. */
  meta(recordIndex: number): RecordMeta {
    const i = recordIndex;
    return {
      recordIndex: i,
      id: this.id[i],
      label: this.label[i],
      label2: this.label2[i],
      fieldCount: this.fieldCount[i],
      width: this.width[i],
      height: this.height[i],
      imageCodec: this.imageCodec[i],
      hasAnnotation: this.annotationOffset[i] !== 0,
      byteOffset: this.frameOffset[i],
      byteLength: FRAME.headerByteLength + this.payloadByteLength[i],
    };
  }

  /** True when the record has a live (non-empty) annotation. */
  hasAnnotation(recordIndex: number): boolean {
    return this.annotationOffset[recordIndex] !== 0;
  }
}
