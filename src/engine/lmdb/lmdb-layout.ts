// The LMDB backend's layout (Caffe's LMDB idea, PicPac's record model; user doc: docs/lmdb.md). One LMDB environment
// (a directory holding data.mdb + lock.mdb) with four named databases:
//
//   meta         key 'picpac' (ordered-binary string) → JSON
//                { format: 'picpac-lmdb', formatVersion: 1, mode: 'encoded' | 'raw',
//                  recordCount, pixelLayout }
//   records      key = record index, u32 BIG-endian (byte order = numeric order, so getRange
//                iterates in record order) → the format 2.0 record payload (src/format/record.ts:
//                32-byte head id/label/label2/fieldCount, 16-byte field descriptors, field
//                bytes). Fields are typed exactly as in .picpac.
//                mode 'encoded': the original JPEG/PNG bytes (not a Caffe Datum protobuf).
//                mode 'raw': field 0 is a tensor field, dtype uint8, shape [H, W, C], pixels
//                HWC in the channel order of the decoder that produced them (src/augment/pixels/decode.ts
//                gives RGB(A)); Caffe's raw Datum holds CHW BGR instead. The engine never decodes.
//   index        key = record index (u32 BE) → 40-byte fixed entry (INDEX_ENTRY below), so
//                opening reads 40 bytes per record and never the image values.
//   annotations  key = record index (u32 BE) → UTF-8 annotation JSON. Replaceable in place: the
//                newest put wins; removal deletes the key (and clears the index flag).
//
// Acknowledged = committed LMDB transaction: writes issued in one event turn share a
// transaction (lmdb-js batching), so a record, its index entry, its annotation and the updated
// meta.recordCount become visible together or not at all.
import { FormatError, invalidParameterError } from '../../errors.ts';
import { FieldKind, TensorDType } from '../../format/layout.ts';
import type { DecodedRecord } from '../../format/types.ts';
import { toDecodedRecord as toDecodedRecordShared } from '../new-record.ts';
import type { NewRecord } from '../store.ts';

export const LMDB_FORMAT_NAME = 'picpac-lmdb';
export const LMDB_FORMAT_VERSION = 1;
export const LMDB_META_KEY = 'picpac';
export const LMDB_DB_NAMES = { meta: 'meta', records: 'records', index: 'index', annotations: 'annotations' } as const;
export const RAW_PIXEL_LAYOUT = 'HWC uint8, channel order of the decoder (RGB/RGBA for src/augment/pixels/decode.ts)';

/** How an LMDB store keeps images: 'encoded' (the JPEG/PNG bytes as given) or 'raw' (decoded uint8 pixels, HWC, as field 0). */
export type LmdbMode = 'encoded' | 'raw';

export interface LmdbMeta {
  format: string;
  formatVersion: number;
  mode: LmdbMode;
  recordCount: number;
  pixelLayout?: string;
}

/** Per-record index entry, little-endian. */
export const INDEX_ENTRY = {
  entryByteLength: 40,
  id: { offset: 0, size: 8 }, // f64 holding a safe integer (ids are ≤ 2^53-1)
  label: { offset: 8, size: 8 }, // f64
  label2: { offset: 16, size: 8 }, // f64
  width: { offset: 24, size: 4 }, // u32 pixels of the first image (or raw tensor), 0 unknown
  height: { offset: 28, size: 4 }, // u32
  recordByteLength: { offset: 32, size: 4 }, // u32 length of the records value
  imageCodec: { offset: 36, size: 1 }, // u8 ImageCodec of the first image field, 0 raw/none
  flags: { offset: 37, size: 1 }, // bit 0: has an annotation (key present in `annotations`); bits 1-7 zero
  fieldCount: { offset: 38, size: 2 }, // u16
} as const;
export const INDEX_FLAG_ANNOTATED = 1;

/** u32 big-endian key: LMDB compares keys bytewise, so BE makes byte order = record order. */
export function recordKey(recordIndex: number): Uint8Array {
  const key = new Uint8Array(4);
  key[0] = recordIndex >>> 24;
  key[1] = (recordIndex >>> 16) & 0xff;
  key[2] = (recordIndex >>> 8) & 0xff;
  key[3] = recordIndex & 0xff;
  return key;
}

export function decodeRecordKey(key: Uint8Array): number {
  return ((key[0] << 24) | (key[1] << 16) | (key[2] << 8) | key[3]) >>> 0;
}

export interface IndexEntry {
  id: number;
  label: number;
  label2: number;
  width: number;
  height: number;
  byteLength: number;
  imageCodec: number;
  flags: number;
  fieldCount: number;
}

export function encodeIndexEntry(e: IndexEntry): Uint8Array {
  const bytes = new Uint8Array(INDEX_ENTRY.entryByteLength);
  const view = new DataView(bytes.buffer);
  view.setFloat64(INDEX_ENTRY.id.offset, e.id, true);
  view.setFloat64(INDEX_ENTRY.label.offset, e.label, true);
  view.setFloat64(INDEX_ENTRY.label2.offset, e.label2, true);
  view.setUint32(INDEX_ENTRY.width.offset, e.width, true);
  view.setUint32(INDEX_ENTRY.height.offset, e.height, true);
  view.setUint32(INDEX_ENTRY.recordByteLength.offset, e.byteLength, true);
  view.setUint8(INDEX_ENTRY.imageCodec.offset, e.imageCodec);
  view.setUint8(INDEX_ENTRY.flags.offset, e.flags);
  view.setUint16(INDEX_ENTRY.fieldCount.offset, e.fieldCount, true);
  return bytes;
}

/** Typed-array columns of the index (what meta() answers from). */
export class IndexColumns {
  recordCount = 0;
  id: Float64Array;
  label: Float64Array;
  label2: Float64Array;
  width: Uint32Array;
  height: Uint32Array;
  byteLength: Uint32Array;
  imageCodec: Uint8Array;
  flags: Uint8Array;
  fieldCount: Uint16Array;

  constructor(capacity = 0) {
    this.id = new Float64Array(capacity);
    this.label = new Float64Array(capacity);
    this.label2 = new Float64Array(capacity);
    this.width = new Uint32Array(capacity);
    this.height = new Uint32Array(capacity);
    this.byteLength = new Uint32Array(capacity);
    this.imageCodec = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.fieldCount = new Uint16Array(capacity);
  }

  /** Decode entry `recordIndex` from its 40 stored bytes (a FormatError when the size is wrong). */
  set(recordIndex: number, bytes: Uint8Array): void {
    if (bytes.length !== INDEX_ENTRY.entryByteLength) {
      throw new FormatError('index entry has the wrong size', { section: 'lmdb-index', byteOffset: 0, recordIndex, expected: INDEX_ENTRY.entryByteLength, actual: bytes.length });
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const id = view.getFloat64(INDEX_ENTRY.id.offset, true);
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new FormatError('index entry id is not a safe integer', { section: 'lmdb-index', byteOffset: INDEX_ENTRY.id.offset, recordIndex, expected: 'an integer in [0, 2^53-1]', actual: String(id) });
    }
    const i = recordIndex;
    this.id[i] = id;
    this.label[i] = view.getFloat64(INDEX_ENTRY.label.offset, true);
    this.label2[i] = view.getFloat64(INDEX_ENTRY.label2.offset, true);
    this.width[i] = view.getUint32(INDEX_ENTRY.width.offset, true);
    this.height[i] = view.getUint32(INDEX_ENTRY.height.offset, true);
    this.byteLength[i] = view.getUint32(INDEX_ENTRY.recordByteLength.offset, true);
    this.imageCodec[i] = view.getUint8(INDEX_ENTRY.imageCodec.offset);
    this.flags[i] = view.getUint8(INDEX_ENTRY.flags.offset);
    this.fieldCount[i] = view.getUint16(INDEX_ENTRY.fieldCount.offset, true);
  }
}

export function parseMeta(text: unknown, location: string): LmdbMeta {
  const m = text as Partial<LmdbMeta> | undefined;
  if (m === undefined || m === null || typeof m !== 'object' || m.format !== LMDB_FORMAT_NAME) {
    throw new FormatError(`${location} is an LMDB environment but not a picpac LMDB store (no picpac meta entry)`, {
      section: 'lmdb-meta',
      byteOffset: 0,
      expected: `meta.format = '${LMDB_FORMAT_NAME}'`,
      actual: m && typeof m === 'object' ? String(m.format) : 'no meta',
    });
  }
  if (m.formatVersion !== LMDB_FORMAT_VERSION) {
    throw new FormatError('unsupported picpac LMDB layout version', { section: 'lmdb-meta', byteOffset: 0, expected: LMDB_FORMAT_VERSION, actual: String(m.formatVersion) }, 'UNSUPPORTED_VERSION');
  }
  if (m.mode !== 'encoded' && m.mode !== 'raw') {
    throw new FormatError('unknown picpac LMDB mode', { section: 'lmdb-meta', byteOffset: 0, expected: "'encoded' or 'raw'", actual: String(m.mode) });
  }
  if (typeof m.recordCount !== 'number' || !Number.isInteger(m.recordCount) || m.recordCount < 0 || m.recordCount > 0xffffffff) {
    throw new FormatError('bad record count in meta', { section: 'lmdb-meta', byteOffset: 0, expected: 'an integer in [0, 2^32-1]', actual: String(m.recordCount) });
  }
  return { format: m.format, formatVersion: m.formatVersion, mode: m.mode, recordCount: m.recordCount, pixelLayout: m.pixelLayout };
}

/**
 * NewRecord → DecodedRecord with PicpacWriter's defaults and checks (src/engine/new-record.ts),
 * plus the raw mode rule: field 0 must be a uint8 tensor [H, W, C] (C 1..4); its size goes to
 * the index.
 */
export function toDecodedRecord(record: NewRecord, recordIndex: number, mode: LmdbMode): DecodedRecord {
  const decoded = toDecodedRecordShared(record, recordIndex);
  if (record.annotation !== undefined && typeof record.annotation !== 'string') throw invalidParameterError('record.annotation', 'a string or undefined', record.annotation);
  const { fields } = decoded;
  if (mode === 'raw') {
    const first = fields[0];
    const shape = first && first.kind === FieldKind.tensor && first.codec === TensorDType.uint8 ? rawShape(first.bytes) : undefined;
    if (!shape) {
      throw invalidParameterError('record.fields[0]', 'a uint8 tensor field of shape [H, W, C] (raw LMDB stores hold decoded pixels; decode with transcodeStore)', first?.kind);
    }
    first.height = shape[0];
    first.width = shape[1];
  }
  return decoded;
}

/** [H, W, C] of uint8 tensor field bytes (rank 3, C 1..4, exact length), else undefined. */
export function rawShape(bytes: Uint8Array): [number, number, number] | undefined {
  if (bytes.length < 16 || bytes[0] !== 3) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = view.getUint32(4, true);
  const w = view.getUint32(8, true);
  const c = view.getUint32(12, true);
  if (c < 1 || c > 4 || h * w * c !== bytes.length - 16) return undefined;
  return [h, w, c];
}

/** Index entry of a record whose payload is `byteLength` bytes. */
export function indexEntryOf(decoded: DecodedRecord, byteLength: number, annotated: boolean): IndexEntry {
  const image = decoded.fields.find((f) => f.kind === FieldKind.image);
  const raw = decoded.fields[0]?.kind === FieldKind.tensor && image === undefined ? decoded.fields[0] : undefined;
  return {
    id: decoded.id,
    label: decoded.label,
    label2: decoded.label2,
    width: image?.width ?? raw?.width ?? 0,
    height: image?.height ?? raw?.height ?? 0,
    byteLength,
    imageCodec: image?.codec ?? 0,
    flags: annotated ? INDEX_FLAG_ANNOTATED : 0,
    fieldCount: decoded.fields.length,
  };
}
