// Frames: a 16-byte header (magic, kind, flags, payload length, payload CRC, header CRC) and the
// payload [FRM-1..FRM-9]. Only record frames are aligned: zero padding goes before a record
// frame, never after other frames [ALN-1..ALN-5]. The header CRC covers the length, so a reader
// rejects a corrupt length before it allocates (TFRecord idea).
import { FormatError, LimitExceededError, invalidParameterError } from '../errors.ts';
import { crc32c, crc32cRange } from './crc32c.ts';
import { hex32 } from './header.ts';
import { isUint, viewOf } from './bytes.ts';
import { FRAME, FRAME_FLAG_CRITICAL, FRAME_MAGIC, FrameKind, LIMITS, alignUp } from './layout.ts';
import type { FrameHeader } from './types.ts';

const SECTION = 'frame';
const HEADER_BYTES = FRAME.headerByteLength;

function checkKindAndFlags(kind: unknown, flags: unknown): void {
  if (!isUint(kind, 255) || kind === 0) throw invalidParameterError('kind', 'an integer between 1 and 255', kind);
  if (!isUint(flags, 255)) throw invalidParameterError('flags', 'an integer between 0 and 255', flags);
  // Kinds 1-4 are written with flags 0 [FRM-8]; this also catches an old-style alignment argument.
  if (kind <= FrameKind.footer && flags !== 0) throw invalidParameterError('flags', `0 for frame kind ${kind}`, flags);
}

function checkPayload(payload: unknown): asserts payload is Uint8Array {
  if (!(payload instanceof Uint8Array)) throw invalidParameterError('payload', 'a Uint8Array', payload);
  if (payload.length > LIMITS.maxFramePayloadBytes) {
    throw invalidParameterError('payload', `at most ${LIMITS.maxFramePayloadBytes} bytes`, payload);
  }
}

/** Write a frame header for `payload` into `target` at `offset` (both CRCs computed). */
function writeFrameHeader(target: Uint8Array, offset: number, kind: number, payload: Uint8Array, flags: number): void {
  const view = new DataView(target.buffer, target.byteOffset + offset, HEADER_BYTES);
  view.setUint16(FRAME.magic.offset, FRAME_MAGIC, true);
  view.setUint8(FRAME.kind.offset, kind);
  view.setUint8(FRAME.flags.offset, flags);
  view.setUint32(FRAME.payloadByteLength.offset, payload.length, true);
  view.setUint32(FRAME.payloadCrc.offset, crc32c(payload), true);
  const headerCrc = crc32c(target.subarray(offset, offset + FRAME.headerCrc.offset));
  view.setUint32(FRAME.headerCrc.offset, headerCrc, true);
}

/**
 * Write a frame header into `target` at `offset` for a payload of `payloadByteLength` bytes whose
 * CRC the caller computed (writers that encode payloads in place). [FRM-1] [FRM-2]
 */
export function writeFrameHeaderAt(target: Uint8Array, offset: number, kind: number, payloadByteLength: number, payloadCrc: number, flags = 0): void {
  checkKindAndFlags(kind, flags);
  if (!isUint(payloadByteLength, LIMITS.maxFramePayloadBytes)) throw invalidParameterError('payloadByteLength', `an integer between 0 and ${LIMITS.maxFramePayloadBytes}`, payloadByteLength);
  target[offset] = FRAME_MAGIC & 0xff;
  target[offset + 1] = FRAME_MAGIC >>> 8;
  target[offset + FRAME.kind.offset] = kind;
  target[offset + FRAME.flags.offset] = flags;
  writeU32(target, offset + FRAME.payloadByteLength.offset, payloadByteLength);
  writeU32(target, offset + FRAME.payloadCrc.offset, payloadCrc);
  writeU32(target, offset + FRAME.headerCrc.offset, crc32cRange(target, offset, offset + FRAME.headerCrc.offset));
}

function writeU32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value & 0xff;
  target[offset + 1] = (value >>> 8) & 0xff;
  target[offset + 2] = (value >>> 16) & 0xff;
  target[offset + 3] = value >>> 24;
}

/** The 16-byte frame header for `payload`. [FRM-1] [FRM-2] */
export function encodeFrameHeader(kind: number, payload: Uint8Array, flags = 0): Uint8Array {
  checkKindAndFlags(kind, flags);
  checkPayload(payload);
  const bytes = new Uint8Array(HEADER_BYTES);
  writeFrameHeader(bytes, 0, kind, payload, flags);
  return bytes;
}

/** Bytes a frame occupies: 16 + payloadByteLength (padding belongs to the next record frame). [FRM-5] */
export function frameExtent(payloadByteLength: number): number {
  return HEADER_BYTES + payloadByteLength;
}

/**
 * Where a writer puts a frame of `kind` when the previous frame (or the header padding) ends at
 * `endOffset`: a record frame at alignUp(endOffset, alignment), any other frame at endOffset.
 * The bytes in between are zero padding. [ALN-1] [ALN-3]
 */
export function frameOffsetAfter(endOffset: number, kind: number, alignment: number): number {
  return kind === FrameKind.record ? alignUp(endOffset, alignment) : endOffset;
}

/** A whole frame: header then payload (no padding, [ALN-3]). [FRM-1] [FRM-2] */
export function encodeFrame(kind: number, payload: Uint8Array, flags = 0): Uint8Array {
  checkKindAndFlags(kind, flags);
  checkPayload(payload);
  const bytes = new Uint8Array(HEADER_BYTES + payload.length);
  writeFrameHeader(bytes, 0, kind, payload, flags);
  bytes.set(payload, HEADER_BYTES);
  return bytes;
}

/** How the bytes at the end `endOffset` of a frame continue, by the scan rule [ALN-4]. */
export type NextFrame =
  /** A frame (of any kind) starts at `frameOffset` = endOffset: it is aligned, or its first byte is not zero. */
  | { frameOffset: number; afterPadding: false }
  /** Zero padding fills [endOffset, frameOffset) and a record frame starts at `frameOffset`. */
  | { frameOffset: number; afterPadding: true };

/**
 * Apply the scan rule [ALN-4] at `endOffset`, the end of a frame (or the first frame offset):
 * if `endOffset` is a multiple of `alignment`, or the byte there is not zero, the next frame
 * starts at `endOffset`; otherwise the bytes up to alignUp(endOffset, alignment) are padding,
 * must all be zero (FormatError naming the first non-zero byte), and a record frame follows.
 * `bytes` holds the file bytes from absolute offset `bytesOffset`; it must cover the padding
 * (the caller checks the padding is complete first: `paddingEnd`).
 */
export function nextFrame(bytes: Uint8Array, bytesOffset: number, endOffset: number, alignment: number): NextFrame {
  const at = endOffset - bytesOffset;
  if (endOffset % alignment === 0 || bytes[at] !== 0) return { frameOffset: endOffset, afterPadding: false };
  const frameOffset = alignUp(endOffset, alignment);
  const stop = Math.min(frameOffset - bytesOffset, bytes.length);
  for (let i = at; i < stop; i++) {
    if (bytes[i] !== 0) {
      throw new FormatError('non-zero padding byte', { section: SECTION, byteOffset: bytesOffset + i, expected: 0, actual: bytes[i] });
    }
  }
  return { frameOffset, afterPadding: true };
}

/**
 * Check the kind of a frame found by nextFrame(): a record frame must start at a multiple of
 * the alignment, and padding may only precede a record frame. [ALN-1] [ALN-4]
 */
export function checkFramePlacement(kind: number, frameOffset: number, afterPadding: boolean, alignment: number, recordIndex?: number): void {
  if (kind === FrameKind.record && frameOffset % alignment !== 0) {
    throw new FormatError('record frame not at a multiple of the alignment', { section: SECTION, byteOffset: frameOffset, recordIndex, expected: `a multiple of ${alignment}`, actual: frameOffset });
  }
  if (afterPadding && kind !== FrameKind.record) {
    throw new FormatError('padding before a frame that is not a record frame', { section: SECTION, byteOffset: frameOffset, recordIndex, expected: `kind ${FrameKind.record}`, actual: kind });
  }
}

/**
 * Decode and verify a frame header (the first 16 of `bytes`; `byteOffset` is the frame's absolute
 * offset, for messages). Checks magic, header CRC, kind, then the payload length against
 * `maxPayloadBytes` (LimitExceededError) — all before the caller allocates anything. [FRM-3] [FRM-4] [LIM-2]
 * @param [options.maxPayloadBytes=2^31-1] reader limit for this frame's payload
 * @param [options.recordIndex] for error messages
 */
export function decodeFrameHeader(
  bytes: Uint8Array,
  byteOffset: number,
  options?: { maxPayloadBytes?: number; recordIndex?: number },
): FrameHeader {
  const recordIndex = options?.recordIndex;
  const maxPayloadBytes = options?.maxPayloadBytes ?? LIMITS.maxFramePayloadBytes;
  if (bytes.length < HEADER_BYTES) {
    throw new FormatError('truncated frame header', {
      section: SECTION,
      byteOffset,
      recordIndex,
      expected: `${HEADER_BYTES} bytes`,
      actual: bytes.length,
    });
  }
  const view = viewOf(bytes);
  const magic = view.getUint16(FRAME.magic.offset, true);
  if (magic !== FRAME_MAGIC) {
    throw new FormatError('bad frame magic', {
      section: SECTION,
      byteOffset,
      recordIndex,
      expected: `0x${FRAME_MAGIC.toString(16)}`,
      actual: `0x${magic.toString(16).padStart(4, '0')}`,
    });
  }
  const storedCrc = view.getUint32(FRAME.headerCrc.offset, true);
  // crc32cRange: no view to allocate and a short loop to inline — this runs for every record read.
  const actualCrc = crc32cRange(bytes, 0, FRAME.headerCrc.offset);
  if (storedCrc !== actualCrc) {
    throw new FormatError('frame header CRC mismatch', {
      section: SECTION,
      byteOffset: byteOffset + FRAME.headerCrc.offset,
      recordIndex,
      expected: hex32(storedCrc),
      actual: hex32(actualCrc),
    });
  }
  const kind = view.getUint8(FRAME.kind.offset);
  if (kind === 0) {
    throw new FormatError('frame kind 0 is invalid', { section: SECTION, byteOffset: byteOffset + 2, recordIndex, expected: '1..255', actual: 0 });
  }
  const flags = view.getUint8(FRAME.flags.offset);
  const payloadByteLength = view.getUint32(FRAME.payloadByteLength.offset, true);
  if (payloadByteLength > LIMITS.maxFramePayloadBytes) {
    throw new FormatError('frame payload longer than the format allows', {
      section: SECTION,
      byteOffset: byteOffset + FRAME.payloadByteLength.offset,
      recordIndex,
      expected: `<= ${LIMITS.maxFramePayloadBytes}`,
      actual: payloadByteLength,
    });
  }
  if (payloadByteLength > maxPayloadBytes) {
    throw new LimitExceededError('frame payload exceeds the reader limit', {
      section: SECTION,
      byteOffset: byteOffset + FRAME.payloadByteLength.offset,
      recordIndex,
      expected: `<= ${maxPayloadBytes}`,
      actual: payloadByteLength,
    });
  }
  const payloadCrc = view.getUint32(FRAME.payloadCrc.offset, true);
  return { kind, flags, payloadByteLength, payloadCrc };
}

/** Check that `payload` is complete and matches the header's CRC. [FRM-6] [CRC-2] */
export function checkFramePayload(header: FrameHeader, payload: Uint8Array, byteOffset: number, recordIndex?: number): void {
  if (payload.length !== header.payloadByteLength) {
    throw new FormatError('truncated frame payload', {
      section: SECTION,
      byteOffset: byteOffset + HEADER_BYTES,
      recordIndex,
      expected: `${header.payloadByteLength} bytes`,
      actual: payload.length,
    });
  }
  const actualCrc = crc32c(payload);
  if (actualCrc !== header.payloadCrc >>> 0) {
    throw new FormatError('frame payload CRC mismatch', {
      section: SECTION,
      byteOffset: byteOffset + HEADER_BYTES,
      recordIndex,
      expected: hex32(header.payloadCrc),
      actual: hex32(actualCrc),
    });
  }
}

/** Kinds 1-4 are defined by 2.0; anything else is an extension (5-127 reserved, 128+ private). [EXT-1] */
export function isKnownFrameKind(kind: number): boolean {
  return kind >= FrameKind.record && kind <= FrameKind.footer;
}

/** An unknown frame with this flag must make the reader refuse the file. [EXT-2] */
export function isCriticalFrame(header: FrameHeader): boolean {
  return !isKnownFrameKind(header.kind) && (header.flags & FRAME_FLAG_CRITICAL) !== 0;
}
