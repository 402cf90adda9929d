// Decoded shapes of format structures (both 2.0 and 1.0). Plain data, no behaviour.
import type { FieldKindCode, ImageCodecCode, TensorDTypeCode } from './layout.ts';

export interface FileHeader {
  majorVersion: number;
  minorVersion: number;
  headerByteLength: number;
  /** 1 = compact; otherwise every frame starts at a multiple of this. */
  alignment: number;
  featureFlags: number;
}

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

export interface RecordHead {
  id: number;
  label: number;
  label2: number;
}

export interface DecodedRecord extends RecordHead {
  fields: Field[];
}

export interface Tensor {
  dtype: TensorDTypeCode;
  shape: number[];
  /** Little-endian element bytes, row-major. */
  data: Uint8Array;
}

export interface AnnotationPayload {
  recordIndex: number;
  annotationFormat: number;
  /** UTF-8 text; empty = annotation removed. */
  text: Uint8Array;
}

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

export interface IndexAnnotationEntry {
  recordIndex: number;
  /** 0 = annotation removed. */
  frameOffset: number;
  payloadByteLength: number;
  payloadCrc: number;
}

export interface IndexBlock {
  firstRecordIndex: number;
  previousIndexOffset: number;
  /** Frame offset of the file's newest metadata frame as of this commit; 0 or absent = none. [EXT-8] */
  metadataOffset?: number;
  records: IndexRecordEntry[];
  annotations: IndexAnnotationEntry[];
}

export interface Footer {
  indexOffset: number;
  recordCount: number;
  annotatedCount: number;
  generation: number;
  /** Footer flags (2.1, [FTR-8]); present only when not 0, so 2.0 footers decode as before. */
  footerFlags?: number;
  footerOffset: number;
}
