// Byte layout of PicPac format 1.0 (REFERENCE §1.1), one table per structure. All integers and
// floats are little-endian; `offset` is relative to the start of the structure. There is no file
// header: a 1.0 file is a chain of segments, each an 8192-byte header followed by its records.

export const V1_MAGIC = 0x59ac; // bytes AC 59
export const V1_VERSION = 0x0100; // bytes 00 01: major 1, minor 0

export const SEGMENT_HEADER_SIZE = 8192;
/** Records per segment: chosen by the original so the header is exactly 8192 bytes. */
export const MAX_SEG_RECORDS = 1020;
/** Record alignment of the default (non-compact) mode. */
export const RECORD_ALIGN = 4096;
export const MAX_FIELDS = 6;
export const RECORD_HEAD_SIZE = 64;
/** A record (64-byte head + fields) must be SMALLER than this (the original's BadRecordSize). */
export const MAX_RECORD_SIZE = 512 * 1024 * 1024;
/** Largest integral group value the original could stratify on. */
export const MAX_CATEGORIES = 2000;

/** Segment header (8192 bytes). */
export const SEGMENT_HEADER = {
  byteLength: SEGMENT_HEADER_SIZE,
  magic: { offset: 0, size: 2 }, // u16 V1_MAGIC
  version: { offset: 2, size: 2 }, // u16 V1_VERSION
  size: { offset: 4, size: 2 }, // u16 records in this segment, 0..1020
  reserved1: { offset: 6, size: 2 }, // u16, 0
  link: { offset: 8, size: 8 }, // u64 absolute offset of the next segment (last: file length); 0 = never closed
  reserved2: { offset: 16, size: 8 }, // u64, 0
  reserved3: { offset: 24, size: 8 }, // u64, 0
  sizes: { offset: 32, size: 4 * MAX_SEG_RECORDS }, // u32[1020] on-disk record length incl. padding
  groups: { offset: 32 + 4 * MAX_SEG_RECORDS, size: 4 * MAX_SEG_RECORDS }, // f32[1020] label or label2
} as const;

/** Record head (64 bytes), followed by the field payloads back to back. */
export const RECORD_HEAD = {
  byteLength: RECORD_HEAD_SIZE,
  id: { offset: 0, size: 4 }, // u32
  label: { offset: 4, size: 4 }, // f32
  width: { offset: 8, size: 1 }, // u8 fields used, 0..6
  reserved1: { offset: 9, size: 1 }, // u8, 0
  label2: { offset: 10, size: 2 }, // i16 (reserved before 2016-08)
  reserved2: { offset: 12, size: 4 }, // u32, 0
  fields: { offset: 16, size: 8 * MAX_FIELDS }, // FIELD_SLOT[6], all six always present
} as const;

/** One of the six field slots of a record head. */
export const FIELD_SLOT = {
  byteLength: 8,
  size: { offset: 0, size: 4 }, // u32 payload length
  type: { offset: 4, size: 1 }, // u8 V1FieldType, 0 in practice (no writer sets it)
  reserved1: { offset: 5, size: 1 }, // u8, 0
  reserved2: { offset: 6, size: 2 }, // u16, 0
} as const;

/** `FieldType` of the HEAD generation; every known writer leaves it 0 (untyped). */
export const V1FieldType = {
  none: 0,
  image: 1,
  annotationImage: 2,
  annotationJson: 3,
} as const;
export const MAX_V1_FIELD_TYPE = 3;

/** Writer flags of the original C++ FileWriter. */
export const V1WriterFlag = {
  indexLabel2: 1,
  compact: 2,
  overwrite: 4,
} as const;

/** Raw matrix field encoding (§1.1.7): four i32 then rows*cols*elemSize bytes row-major. */
export const RAW_MATRIX = {
  headByteLength: 16,
  cvType: { offset: 0, size: 4 }, // i32 OpenCV type code: depth | (channels-1) << 3
  rows: { offset: 4, size: 4 }, // i32
  cols: { offset: 8, size: 4 }, // i32
  elemSize: { offset: 12, size: 4 }, // i32 bytes per pixel, all channels
} as const;

/** OpenCV depth codes the original Python encoder produced, with their element sizes. */
export const CvDepth = {
  u8: 0,
  s8: 1,
  u16: 2,
  s16: 3,
  s32: 4,
  f32: 5,
  f64: 6,
} as const;
export type CvDepthCode = (typeof CvDepth)[keyof typeof CvDepth];
export const CV_DEPTH_BYTES: Record<CvDepthCode, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 8 };
/** OpenCV's CV_CN_MAX. */
export const CV_MAX_CHANNELS = 512;
