// Reader of PicPac 1.0 files as a Store ('picpac-1'). Open = the original's chain walk with
// typed errors, plus one pass over the 64-byte record heads (coalesced reads) so that meta()
// answers id, labels, field count, codec and annotation presence from memory.
import { ClosedError, FormatError, PicpacError, invalidParameterError, outOfRangeError } from '../../errors.ts';
import { ImageCodec } from '../../format/layout.ts';
import { MAX_FIELDS, RECORD_HEAD_SIZE } from '../../format/v1/layout.ts';
import { decodeV1Record, decodeV1RecordHead, RECORD_SECTION, type V1Record } from '../../format/v1/record.ts';
import { decodeV1AnnotationText, sniffV1Field } from '../../format/v1/sniff-field.ts';
import { MemorySource, type ByteSource } from '../sources/byte-source.ts';
import { FileSource } from '../sources/file-source.ts';
import type { RecordMeta, ScanOptions, Store, StoredRecord } from '../store.ts';
import { discoverV1Records, type V1Mode, type V1RecoveryReport } from './v1-discover.ts';
import { mapV1Fields } from './v1-mapping.ts';
import { forEachRange, type ByteRange } from './v1-ranges.ts';

export type { V1RecoveryReport } from './v1-discover.ts';

export interface V1ReaderOptions {
  /**
   * Read what can be read from a damaged or crashed file instead of throwing: closed segments,
   * then records found by scanning heads after the break (see v1-discover.ts). Default false.
   */
  recover?: boolean;
}

/** Head + start of field 0 (codec, and usually the pixel size) read per record at open. */
const PEEK_BYTES = 1024;
/** Bytes of field 1 read at open to tell JSON from an image. */
const SLOT1_PEEK_BYTES = 256;
/** Records up to PEEK + this are read whole at open: coalesced reads fetch such gaps anyway. */
const WHOLE_RECORD_EXTRA_BYTES = 32 * 1024;
/** Files up to this size are read whole at open. */
const WHOLE_FILE_BYTES = 4 << 20;

// Class of slot 1, kept per record.
const SLOT1_ABSENT = 0;
const SLOT1_JSON = 1;
const SLOT1_OTHER = 2;

interface Columns {
  byteOffset: Float64Array;
  /** 64 + sum of field sizes: what get() reads. */
  recordLength: Uint32Array;
  diskLength: Uint32Array;
  group: Float32Array;
  id: Uint32Array;
  label: Float32Array;
  label2: Int16Array;
  width: Uint8Array;
  fieldSizes: Uint32Array; // MAX_FIELDS per record
  slot1: Uint8Array;
  codec: Uint8Array;
  pixelWidth: Uint32Array;
  pixelHeight: Uint32Array;
}

function allocColumns(count: number): Columns {
  return {
    byteOffset: new Float64Array(count),
    recordLength: new Uint32Array(count),
    diskLength: new Uint32Array(count),
    group: new Float32Array(count),
    id: new Uint32Array(count),
    label: new Float32Array(count),
    label2: new Int16Array(count),
    width: new Uint8Array(count),
    fieldSizes: new Uint32Array(count * MAX_FIELDS),
    slot1: new Uint8Array(count),
    codec: new Uint8Array(count),
    pixelWidth: new Uint32Array(count),
    pixelHeight: new Uint32Array(count),
  };
}

/**
 * Reads a PicPac 1.0 file (Store format 'picpac-1') from a path or {@link ByteSource}. Opening
 * walks the segment chain and reads every record head, so `meta()` answers from memory; with
 * `recover`, it reads what a crashed or damaged file still holds.
 */
export class V1Reader implements Store {
  readonly name: string;
  readonly format = 'picpac-1';
  /** Layout of the file: records padded to 4096 bytes ('aligned') or back to back. */
  readonly mode: V1Mode;
  /** Set when opened with recover: what was found and what broke (problems empty = clean). */
  readonly recovery: V1RecoveryReport | undefined;
  private readonly source: ByteSource;
  private readonly ownsSource: boolean;
  private readonly cols: Columns;
  private closed = false;

  private constructor(source: ByteSource, ownsSource: boolean, cols: Columns, mode: V1Mode, recovery: V1RecoveryReport | undefined) {
    this.name = source.name;
    this.source = source;
    this.ownsSource = ownsSource;
    this.cols = cols;
    this.mode = mode;
    this.recovery = recovery;
  }

  /**
   * Open a 1.0 file. Strict (default): any inconsistency is a FormatError naming the file,
   * byte offset and record — an unclosed segment (crashed writer) is an UnfinishedFileError at
   * the segment's offset; a link past the end of file (truncation) a FormatError.
   * @param source path or ByteSource (a path is opened and closed by the reader)
   * @param [options.recover=false] return every record that can be found instead (see `recovery`)
   */
  static async open(source: ByteSource | string, options?: V1ReaderOptions): Promise<V1Reader> {
    const recover = options?.recover ?? false;
    if (typeof recover !== 'boolean') throw invalidParameterError('options.recover', 'a boolean', recover);
    const ownsSource = typeof source === 'string';
    const src = ownsSource ? await FileSource.open(source) : source;
    try {
      return await V1Reader.openSource(src, ownsSource, recover);
    } catch (err) {
      if (ownsSource) await src.close().catch(() => {});
      throw err instanceof PicpacError ? err.withFile(src.name) : err;
    }
  }

  private static async openSource(source: ByteSource, ownsSource: boolean, recover: boolean): Promise<V1Reader> {
    const fileLength = source.byteLength;
    // Small files: one read, then everything below is served from memory.
    const view = fileLength <= WHOLE_FILE_BYTES ? new MemorySource(await source.read(0, fileLength), source.name) : source;
    const { locators, recovery } = await discoverV1Records(view, { recover });
    const count = locators.byteOffset.length;
    const all = allocColumns(count);
    const valid = new Uint8Array(count);
    const ranges: ByteRange[] = [];
    for (let i = 0; i < count; i++) {
      const byteOffset = locators.byteOffset[i];
      const diskLength = locators.diskLength[i];
      const want = diskLength <= PEEK_BYTES + WHOLE_RECORD_EXTRA_BYTES ? diskLength : PEEK_BYTES;
      ranges.push({ byteOffset, byteLength: Math.min(want, fileLength - byteOffset) });
    }
    const errors: FormatError[] = [];
    const slot1Later: number[] = [];
    await forEachRange(view, ranges, (i, bytes) => {
      const byteOffset = locators.byteOffset[i];
      try {
        const head = decodeV1RecordHead(bytes, {
          byteOffset,
          recordIndex: i,
          recordByteLength: Math.min(locators.diskLength[i], fileLength - byteOffset),
        });
        all.byteOffset[i] = byteOffset;
        all.recordLength[i] = head.byteLength;
        all.diskLength[i] = locators.diskLength[i];
        all.group[i] = locators.group[i];
        all.id[i] = head.id;
        all.label[i] = head.label;
        all.label2[i] = head.label2;
        all.width[i] = head.width;
        for (let k = 0; k < head.width; k++) all.fieldSizes[i * MAX_FIELDS + k] = head.fieldSizes[k];
        if (head.width > 0) {
          const size0 = head.fieldSizes[0];
          const f0 = sniffV1Field(bytes.subarray(RECORD_HEAD_SIZE, RECORD_HEAD_SIZE + size0), { byteLength: size0 });
          setImage(all, i, f0.fieldClass === 'image' || f0.fieldClass === 'raw' ? f0 : undefined);
        }
        if (head.width >= 2 && head.fieldSizes[1] > 0) {
          const start = RECORD_HEAD_SIZE + head.fieldSizes[0];
          const want = Math.min(head.fieldSizes[1], SLOT1_PEEK_BYTES);
          if (start + want <= bytes.length) all.slot1[i] = slot1Class(bytes.subarray(start, start + head.fieldSizes[1]), head.fieldSizes[1]);
          else slot1Later.push(i);
        }
        valid[i] = 1;
      } catch (err) {
        if (!(err instanceof FormatError)) throw err;
        errors.push(err);
      }
    });
    if (errors.length > 0) {
      errors.sort((a, b) => (a.recordIndex ?? 0) - (b.recordIndex ?? 0));
      if (!recover) throw errors[0];
      recovery?.problems.push(...errors);
    }
    const slot1Ranges = slot1Later.map((i) => ({
      byteOffset: all.byteOffset[i] + RECORD_HEAD_SIZE + all.fieldSizes[i * MAX_FIELDS],
      byteLength: Math.min(all.fieldSizes[i * MAX_FIELDS + 1], SLOT1_PEEK_BYTES),
    }));
    await forEachRange(view, slot1Ranges, (j, bytes) => {
      const i = slot1Later[j];
      all.slot1[i] = slot1Class(bytes, all.fieldSizes[i * MAX_FIELDS + 1]);
    });
    const cols = errors.length > 0 ? keepValid(all, valid) : all;
    if (recovery && errors.length > 0) recovery.recoveredRecords = Math.max(0, cols.id.length - recovery.closedSegmentRecords);
    return new V1Reader(source, ownsSource, cols, recovery?.mode ?? detectMode(cols), recovery);
  }

  get recordCount(): number {
    return this.cols.id.length;
  }

  meta(recordIndex: number): RecordMeta {
    this.checkIndex(recordIndex);
    const c = this.cols;
    const i = recordIndex;
    const hasAnnotation = c.slot1[i] === SLOT1_JSON;
    return {
      recordIndex: i,
      id: c.id[i],
      label: c.label[i],
      label2: c.label2[i],
      fieldCount: c.width[i] - (hasAnnotation ? 1 : 0),
      width: c.pixelWidth[i],
      height: c.pixelHeight[i],
      imageCodec: c.codec[i],
      hasAnnotation,
      byteOffset: c.byteOffset[i],
      byteLength: c.recordLength[i],
    };
  }

  /** The `groups[]` value of the record (label, or label2 for INDEX_LABEL2 writers). */
  group(recordIndex: number): number {
    this.checkIndex(recordIndex);
    return this.cols.group[recordIndex];
  }

  async get(recordIndex: number): Promise<StoredRecord> {
    return this.storedRecord(recordIndex, await this.readV1Record(recordIndex));
  }

  /** The record as stored: id, label (float32), label2 and the `width` raw field payloads. */
  async readV1Record(recordIndex: number): Promise<V1Record> {
    this.checkIndex(recordIndex);
    const byteOffset = this.cols.byteOffset[recordIndex];
    const byteLength = this.cols.recordLength[recordIndex];
    const bytes = await this.source.read(byteOffset, byteLength);
    return this.decodeAt(recordIndex, bytes);
  }

  /** The 1.0 fields exactly as stored (slot order, empty ones included): what `dump` prints. */
  async readRawFields(recordIndex: number): Promise<Uint8Array[]> {
    return (await this.readV1Record(recordIndex)).fields;
  }

  async getAnnotation(recordIndex: number): Promise<string | undefined> {
    this.checkIndex(recordIndex);
    const c = this.cols;
    if (c.slot1[recordIndex] !== SLOT1_JSON) return undefined;
    const byteOffset = c.byteOffset[recordIndex] + RECORD_HEAD_SIZE + c.fieldSizes[recordIndex * MAX_FIELDS];
    const byteLength = c.fieldSizes[recordIndex * MAX_FIELDS + 1];
    const bytes = await this.source.read(byteOffset, byteLength);
    if (bytes.length < byteLength) throw truncated(byteOffset, recordIndex, byteLength, bytes.length).withFile(this.name);
    const text = decodeV1AnnotationText(bytes);
    if (text === undefined) c.slot1[recordIndex] = SLOT1_OTHER; // not valid UTF-8: a bytes field after all
    return text;
  }

  /** File-order iteration; consecutive records are read together in chunks of `chunkBytes`. */
  scan(options?: ScanOptions): AsyncIterableIterator<StoredRecord> {
    this.checkOpen();
    const count = this.recordCount;
    const start = options?.start ?? 0;
    const end = options?.end ?? count;
    const chunkBytes = options?.chunkBytes ?? 4 << 20;
    if (!Number.isInteger(start) || start < 0 || start > count) throw outOfRangeError('options.start', `an integer 0..${count}`, start);
    if (!Number.isInteger(end) || end < start || end > count) throw outOfRangeError('options.end', `an integer ${start}..${count}`, end);
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw outOfRangeError('options.chunkBytes', 'a positive integer', chunkBytes);
    return this.scanRange(start, end, chunkBytes);
  }

  private async *scanRange(start: number, end: number, chunkBytes: number): AsyncIterableIterator<StoredRecord> {
    const c = this.cols;
    let i = start;
    while (i < end) {
      this.checkOpen();
      const chunkStart = c.byteOffset[i];
      let j = i + 1;
      let chunkEnd = chunkStart + c.recordLength[i];
      while (j < end && c.byteOffset[j] >= chunkEnd && c.byteOffset[j] + c.recordLength[j] - chunkStart <= chunkBytes) {
        chunkEnd = c.byteOffset[j] + c.recordLength[j];
        j++;
      }
      const chunk = await this.source.read(chunkStart, chunkEnd - chunkStart);
      for (let k = i; k < j; k++) {
        const at = c.byteOffset[k] - chunkStart;
        // Copy: a held record must not pin the whole chunk.
        const v1 = this.decodeAt(k, chunk.slice(at, at + c.recordLength[k]));
        yield this.storedRecord(k, v1);
      }
      i = j;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsSource) await this.source.close();
  }

  private decodeAt(recordIndex: number, bytes: Uint8Array): V1Record {
    const byteOffset = this.cols.byteOffset[recordIndex];
    const byteLength = this.cols.recordLength[recordIndex];
    try {
      if (bytes.length < byteLength) throw truncated(byteOffset, recordIndex, byteLength, bytes.length);
      const { id, label, label2, fields } = decodeV1Record(bytes, { byteOffset, recordIndex });
      return { id, label, label2, fields };
    } catch (err) {
      throw err instanceof PicpacError ? err.withFile(this.name) : err;
    }
  }

  private storedRecord(recordIndex: number, v1: V1Record): StoredRecord {
    const mapped = mapV1Fields(v1.fields);
    const c = this.cols;
    // get() is authoritative: refresh what open could only guess from a peek.
    const first = v1.fields.length > 0 ? mapped.fields[0] : undefined; // slot 0 is never the annotation
    if (first) setImage(c, recordIndex, first.kind === 'image' ? first : undefined);
    if (v1.fields.length >= 2 && v1.fields[1].length > 0) c.slot1[recordIndex] = mapped.annotationSlot === 1 ? SLOT1_JSON : SLOT1_OTHER;
    const record: StoredRecord = { ...this.meta(recordIndex), fields: mapped.fields, annotation: mapped.annotation };
    if (mapped.annotationSlot !== undefined) record.annotationSlot = mapped.annotationSlot;
    return record;
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError(`V1Reader ${this.name}`);
  }

  private checkIndex(recordIndex: number): void {
    this.checkOpen();
    if (!Number.isInteger(recordIndex) || recordIndex < 0 || recordIndex >= this.recordCount) {
      throw outOfRangeError('recordIndex', `an integer 0..${this.recordCount - 1}`, recordIndex);
    }
  }
}

function setImage(cols: Columns, i: number, image: { codec: number; width: number; height: number } | undefined): void {
  cols.codec[i] = image?.codec ?? ImageCodec.unknown;
  cols.pixelWidth[i] = image?.width ?? 0;
  cols.pixelHeight[i] = image?.height ?? 0;
}

/** JSON (by its first bytes) or something else; `get` refines it with the UTF-8 check. */
function slot1Class(bytes: Uint8Array, byteLength: number): number {
  const sniffed = sniffV1Field(bytes, { byteLength });
  if (sniffed.fieldClass !== 'json') return SLOT1_OTHER;
  // The whole field is here: apply the same test as get().
  if (bytes.length === byteLength && decodeV1AnnotationText(bytes) === undefined) return SLOT1_OTHER;
  return SLOT1_JSON;
}

function keepValid(all: Columns, valid: Uint8Array): Columns {
  const keep: number[] = [];
  for (let i = 0; i < valid.length; i++) if (valid[i]) keep.push(i);
  const out = allocColumns(keep.length);
  for (const [j, i] of keep.entries()) {
    for (const key of Object.keys(out) as Array<keyof Columns>) {
      if (key === 'fieldSizes') out.fieldSizes.set(all.fieldSizes.subarray(i * MAX_FIELDS, (i + 1) * MAX_FIELDS), j * MAX_FIELDS);
      else out[key][j] = all[key][i];
    }
  }
  return out;
}

function detectMode(cols: Columns): V1Mode {
  if (cols.diskLength.length === 0) return 'compact';
  return cols.diskLength.every((d) => d % 4096 === 0) ? 'aligned' : 'compact';
}

function truncated(byteOffset: number, recordIndex: number, expected: number, actual: number): FormatError {
  return new FormatError('record truncated (file shorter than its index says)', {
    section: RECORD_SECTION,
    byteOffset,
    recordIndex,
    expected: `${expected} bytes`,
    actual: `${actual} bytes`,
  });
}
