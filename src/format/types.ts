// Decoded shapes of format structures (both 2.0 and 1.0). Plain data, no behaviour.
import type { FieldKindCode, ImageCodecCode, TensorDTypeCode } from './layout.ts';

/** The decoded 64-byte file header (SPEC §3): versions, header length in bytes, alignment and feature flags. */
export interface FileHeader {
  majorVersion: number;
  minorVersion: number;
  headerByteLength: number;
  /** 1 = compact; otherwise every frame starts at a multiple of this. */
  alignment: number;
  featureFlags: number;
}

/** The decoded 16-byte frame header: frame kind, flags, payload length in bytes and payload CRC32C. */
export interface FrameHeader {
  kind: number;
  flags: number;
  payloadByteLength: number;
  payloadCrc: number;
}

/** A field as stored in a record. `bytes` may be a view into a larger buffer. */
export interface Field {
  kind: FieldKindCode;
  /** ImageCodec for image/label fields, TensorDType for tensors, 0 for bytes. */
  codec: number;
  bytes: Uint8Array;
  /** Pixels; 0 when unknown or not an image. */
  width: number;
  height: number;
}

/** The fixed part of a record: its id (an integer up to 2^53-1) and two float64 labels. */
export interface RecordHead {
  id: number;
  label: number;
  label2: number;
}

/** A record payload decoded: the head plus its fields, in stored order. */
export interface DecodedRecord extends RecordHead {
  fields: Field[];
}

/** A tensor field decoded: element type, dimensions, and the raw element bytes. */
export interface Tensor {
  dtype: TensorDTypeCode;
  shape: number[];
  /** Little-endian element bytes, row-major. */
  data: Uint8Array;
}

/** An annotation frame payload decoded: which record (its file-order index), the format code and the text. */
export interface AnnotationPayload {
  recordIndex: number;
  annotationFormat: number;
  /** UTF-8 text; empty = annotation removed. */
  text: Uint8Array;
}

/** One record's entry in an index block: where its frame is (absolute byte offset), its CRC and its head, without reading it. */
export interface IndexRecordEntry {
  frameOffset: number;
  payloadByteLength: number;
  payloadCrc: number;
  id: number;
  label: number;
  label2: number;
  width: number;
  height: number;
  fieldCount: number;
  firstImageCodec: ImageCodecCode | number;
  entryFlags: number;
}

/** One annotation change in an index block: the record index and where the newest annotation frame is. */
export interface IndexAnnotationEntry {
  recordIndex: number;
  /** 0 = annotation removed. */
  frameOffset: number;
  payloadByteLength: number;
  payloadCrc: number;
}

/** An index block decoded: the record entries of one commit, its annotation changes, and the link to the previous block. */
export interface IndexBlock {
  firstRecordIndex: number;
  previousIndexOffset: number;
  /** Frame offset of the file's newest metadata frame as of this commit; 0 or absent = none. [EXT-8] */
  metadataOffset?: number;
  records: IndexRecordEntry[];
  annotations: IndexAnnotationEntry[];
}

/** The decoded footer (the last 64 bytes of a finished file): where the newest index block is, and the counts it must match. */
export interface Footer {
  indexOffset: number;
  recordCount: number;
  annotatedCount: number;
  generation: number;
  /** Footer flags (2.1, [FTR-8]); present only when not 0, so 2.0 footers decode as before. */
  footerFlags?: number;
  footerOffset: number;
}
