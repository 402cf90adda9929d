// Byte layout of format 2.0, one table per structure, mirroring SPEC.md row for row.
// All integers are little-endian. `offset` is relative to the start of the structure.
// Nothing here does I/O; codecs in this folder read and write these offsets.

/** File signature, PNG style: a non-ASCII byte, a name, CR-LF, ^Z, LF. [HDR-1] */
export const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x50, 0x43, 0x0d, 0x0a, 0x1a, 0x0a); // "\x89PPC\r\n\x1a\n"

/** Major format version this code reads and writes (header byte 8); readers refuse other majors. [HDR-2] */
export const FORMAT_MAJOR = 2;
/**
 * Minor version written by the reference writers: 1 (2.1), since annotated records carry
 * RECORD_FLAG_ANNOTATION_FOLLOWS ([REC-11]; a 2.0 reader ignores it). FORMAT_MINOR_2_1 names the
 * version that brought footer flags, the extended header CRC and metadata frames.
 */
export const FORMAT_MINOR = 1;
/** Minor version 1 (format 2.1): footer flags, the extended header CRC and metadata frames. */
export const FORMAT_MINOR_2_1 = 1;

/** File header: 64 bytes at offset 0. */
export const HEADER = {
  byteLength: 64,
  signature: { offset: 0, size: 8 },
  majorVersion: { offset: 8, size: 1 }, // u8
  minorVersion: { offset: 9, size: 1 }, // u8
  headerByteLength: { offset: 10, size: 2 }, // u16, = 64 in 2.0; readers honour larger values from newer minors
  alignment: { offset: 12, size: 4 }, // u32: 1 (compact) or a power of two up to MAX_ALIGNMENT
  featureFlags: { offset: 16, size: 4 }, // u32: bits 0-15 critical, 16-31 ancillary; bit 17 = FEATURE_EXTENDED_HEADER_CRC (2.1)
  reserved: { offset: 20, size: 36 }, // zero when written, ignored when read
  extendedHeaderCrc: { offset: 56, size: 4 }, // u32 CRC32C of bytes 64..headerByteLength-1 when feature bit 17 is set, else 0 (2.1) [HDR-9]
  headerCrc: { offset: 60, size: 4 }, // u32 CRC32C of bytes 0..59
} as const;

/** Largest frame alignment a header may declare, in bytes (1 MiB); alignments are 1 or a power of two up to this. */
export const MAX_ALIGNMENT = 1 << 20;
/** Feature-flag bits a reader must understand to read the file. [HDR-6] */
export const CRITICAL_FEATURE_MASK = 0x0000ffff;
/** Ancillary feature bit 17 (2.1): header bytes 56..59 hold the CRC of the grown header. [HDR-9] */
export const FEATURE_EXTENDED_HEADER_CRC = 1 << 17;

/** Frame header: 16 bytes; every structure after the file header is a frame. */
export const FRAME = {
  headerByteLength: 16,
  magic: { offset: 0, size: 2 }, // u16 FRAME_MAGIC (bytes F7 50)
  kind: { offset: 2, size: 1 }, // u8 FrameKind
  flags: { offset: 3, size: 1 }, // u8: bit 0 critical (extension kinds); other bits zero
  payloadByteLength: { offset: 4, size: 4 }, // u32
  payloadCrc: { offset: 8, size: 4 }, // u32 CRC32C of the payload
  headerCrc: { offset: 12, size: 4 }, // u32 CRC32C of bytes 0..11
} as const;

/** u16 that opens every frame header (bytes F7 50 on disk); recovery scans for it to resynchronise. */
export const FRAME_MAGIC = 0x50f7;
/** Frame flags bit 0: a reader that does not implement this extension kind must refuse the file. [EXT-2] */
export const FRAME_FLAG_CRITICAL = 0x01;

/** Frame kind codes (frame header byte 2). Kinds 1-5 are defined by the format; 128-255 are extensions. */
export const FrameKind = {
  record: 1,
  annotation: 2,
  index: 3,
  footer: 4,
  /** File metadata (class table, …), ancillary: flags 0, so readers that do not know it skip it. [EXT-7] */
  metadata: 5,
  /** Kinds 6..127 are reserved for future minors (treated as extensions: flag decides). */
  firstExtension: 128,
} as const;
/** A frame kind byte: one of {@link FrameKind} or an extension / reserved kind (0-255). */
export type FrameKindCode = number;

/** Record payload: fixed 32-byte head, then field descriptors, then field bytes. */
export const RECORD = {
  headByteLength: 32,
  id: { offset: 0, size: 8 }, // u64, at most 2^53-1
  label: { offset: 8, size: 8 }, // f64
  label2: { offset: 16, size: 8 }, // f64
  fieldCount: { offset: 24, size: 2 }, // u16, at most MAX_FIELDS
  recordFlags: { offset: 26, size: 2 }, // u16: bit 0 RECORD_FLAG_ANNOTATION_FOLLOWS (2.1), other bits zero
  reserved: { offset: 28, size: 4 },
} as const;

/**
 * recordFlags bit 0 [REC-11]: the record frame is directly followed by the annotation frame
 * written with it. Recovery keeps the two as one unit: a record whose annotation frame is lost
 * is dropped, never returned as an unannotated sample. Written by files of minor version >= 1.
 */
export const RECORD_FLAG_ANNOTATION_FOLLOWS = 1;

/** Field descriptor: 16 bytes each, directly after the record head. */
export const FIELD = {
  byteLength: 16,
  kind: { offset: 0, size: 1 }, // u8 FieldKind
  codec: { offset: 1, size: 1 }, // u8 ImageCodec (image/label) or TensorDType (tensor)
  fieldFlags: { offset: 2, size: 2 }, // u16, zero in 2.0
  byteLength_: { offset: 4, size: 4 }, // u32 length of this field's bytes
  width: { offset: 8, size: 4 }, // u32 pixels, 0 = unknown / not an image
  height: { offset: 12, size: 4 }, // u32 pixels
} as const;

/** Field kind codes (field descriptor byte 0): what a record field holds. */
export const FieldKind = {
  image: 1,
  label: 2, // label image / mask (lossless), rendered with nearest-neighbour sampling
  tensor: 3, // raw tensor: see TENSOR
  bytes: 4, // opaque
} as const;
/** One of the {@link FieldKind} codes. */
export type FieldKindCode = (typeof FieldKind)[keyof typeof FieldKind];

/** Image codec codes (field descriptor byte 1 of image and label fields), as sniffed from the bytes. */
export const ImageCodec = {
  unknown: 0,
  jpeg: 1,
  png: 2,
  webp: 3,
  gif: 4,
  tiff: 5,
  bmp: 6,
  avif: 7,
  /** PicPac 1.0 raw matrix (16-byte OpenCV header + pixels), REFERENCE §1.1.7. */
  v1raw: 8,
} as const;
/** One of the {@link ImageCodec} codes. */
export type ImageCodecCode = (typeof ImageCodec)[keyof typeof ImageCodec];

/** Element type codes of tensor fields (field descriptor byte 1 of tensor fields). */
export const TensorDType = {
  uint8: 1,
  int8: 2,
  uint16: 3,
  int16: 4,
  uint32: 5,
  int32: 6,
  float32: 7,
  float64: 8,
} as const;
/** One of the {@link TensorDType} codes. */
export type TensorDTypeCode = (typeof TensorDType)[keyof typeof TensorDType];
/** Bytes per element of each tensor element type. */
export const TENSOR_ELEMENT_BYTES: Record<TensorDTypeCode, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 8: 8 };

/** Tensor field bytes: rank, then dims, then row-major little-endian elements. */
export const TENSOR = {
  rank: { offset: 0, size: 1 }, // u8, 1..MAX_TENSOR_RANK
  reserved: { offset: 1, size: 3 },
  dims: { offset: 4 }, // u32 × rank
} as const;
/** Largest number of dimensions a tensor field may have. */
export const MAX_TENSOR_RANK = 8;

/** Annotation frame payload: which record, then the annotation text. The newest frame wins. */
export const ANNOTATION = {
  headByteLength: 16,
  recordIndex: { offset: 0, size: 8 }, // u64 ordinal of the record (file order of record frames)
  annotationFormat: { offset: 8, size: 4 }, // u32 AnnotationFormat
  reserved: { offset: 12, size: 4 },
} as const;

/** Annotation format codes (annotation payload bytes 8..11); 1 = UTF-8 JSON text. */
export const AnnotationFormat = { json: 1 } as const;

/** Index frame payload: a block head, record entries, then annotation entries. */
export const INDEX = {
  headByteLength: 48,
  firstRecordIndex: { offset: 0, size: 8 }, // u64
  recordCount: { offset: 8, size: 8 }, // u64 entries in this block
  annotationEntryCount: { offset: 16, size: 8 }, // u64
  previousIndexOffset: { offset: 24, size: 8 }, // u64 frame offset of the previous block, 0 = none
  recordEntryByteLength: { offset: 32, size: 4 }, // u32 = 64 in 2.0 (newer minors may grow it)
  annotationEntryByteLength: { offset: 36, size: 4 }, // u32 = 24 in 2.0
  metadataOffset: { offset: 40, size: 8 }, // u64 frame offset of the newest metadata frame, 0 = none [EXT-8]
} as const;

/** Metadata frame payload (kind 5): format, reserved, then the text. [EXT-7] */
export const METADATA = {
  headByteLength: 8,
  metadataFormat: { offset: 0, size: 4 }, // u32: 1 = JSON object
  reserved: { offset: 4, size: 4 },
} as const;

/** Record entry of an index block: 64 bytes per record, enough to list and filter without reading the record. [IDX-5] */
export const INDEX_RECORD_ENTRY = {
  byteLength: 64,
  frameOffset: { offset: 0, size: 8 }, // u64 absolute offset of the record frame
  payloadByteLength: { offset: 8, size: 4 }, // u32
  payloadCrc: { offset: 12, size: 4 }, // u32 (copy of the frame's)
  id: { offset: 16, size: 8 }, // u64
  label: { offset: 24, size: 8 }, // f64
  label2: { offset: 32, size: 8 }, // f64
  width: { offset: 40, size: 4 }, // u32 of the first image field, 0 = none/unknown
  height: { offset: 44, size: 4 }, // u32
  fieldCount: { offset: 48, size: 2 }, // u16
  firstImageCodec: { offset: 50, size: 1 }, // u8 ImageCodec of the first image field
  entryFlags: { offset: 51, size: 1 }, // u8, zero in 2.0
  reserved: { offset: 52, size: 12 },
} as const;

/** Annotation entry of an index block: 24 bytes per record whose annotation changed in that commit. [IDX-6] */
export const INDEX_ANNOTATION_ENTRY = {
  byteLength: 24,
  recordIndex: { offset: 0, size: 8 }, // u64
  frameOffset: { offset: 8, size: 8 }, // u64 offset of the annotation frame; 0 = annotation removed
  payloadByteLength: { offset: 16, size: 4 }, // u32
  payloadCrc: { offset: 20, size: 4 }, // u32
} as const;

/** Footer frame payload (48 bytes); the footer frame is the last 64 bytes of a finished file. */
export const FOOTER = {
  payloadByteLength: 48,
  frameByteLength: 64,
  indexOffset: { offset: 0, size: 8 }, // u64 frame offset of the newest index block
  recordCount: { offset: 8, size: 8 }, // u64 total records
  annotatedCount: { offset: 16, size: 8 }, // u64 records with a live annotation
  generation: { offset: 24, size: 4 }, // u32 commits so far (1 after the first close)
  footerFlags: { offset: 28, size: 4 }, // u32 (2.1; reserved zero in 2.0): bits 0-15 critical, 16-31 ancillary [FTR-8]
  footerOffset: { offset: 32, size: 8 }, // u64 its own frame offset (= file length - 64)
  reserved2: { offset: 40, size: 8 },
} as const;

/** Footer flag bit 0 (critical): the file holds critical extension frames. [FTR-8] [EXT-6] */
export const FOOTER_FLAG_CRITICAL_FRAMES = 0x01;
/** Footer-flag bits a reader must understand to read the file (bits 0-15); unknown ancillary bits are ignored. [FTR-8] */
export const CRITICAL_FOOTER_FLAG_MASK = 0x0000ffff;

/** Hard limits of the format (readers may set lower ones). */
export const LIMITS = {
  maxFramePayloadBytes: 0x7fffffff, // 2 GiB - 1: what a JS buffer holds
  maxFields: 255,
  maxId: Number.MAX_SAFE_INTEGER,
} as const;

/** Defaults a reader enforces unless told otherwise. */
export const DEFAULT_LIMITS = {
  maxRecordBytes: 1 << 30, // 1 GiB
  maxAnnotationBytes: 64 << 20, // 64 MiB
  maxIndexBytes: 1 << 30,
} as const;

/** Round a byte offset up to the next multiple of `alignment` (bytes); alignments of 0 or 1 leave it unchanged. */
export function alignUp(byteOffset: number, alignment: number): number {
  if (alignment <= 1) return byteOffset;
  const rem = byteOffset % alignment;
  return rem === 0 ? byteOffset : byteOffset + (alignment - rem);
}
