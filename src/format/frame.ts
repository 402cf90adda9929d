// Frames: a 16-byte header (magic, kind, flags, payload length, payload CRC, header CRC), the
// payload, then zero padding so the next frame starts aligned [FRM-1..FRM-9]. The header CRC
// covers the length, so a reader rejects a corrupt length before it allocates (TFRecord idea).
import { FormatError, LimitExceededError, invalidParameterError } from '../errors.ts';
import { crc32c } from './crc32c.ts';
import { hex32, isValidAlignment } from './header.ts';
import { isUint, viewOf } from './bytes.ts';
import { FRAME, FRAME_FLAG_CRITICAL, FRAME_MAGIC, FrameKind, LIMITS, alignUp } from './layout.ts';
import type { FrameHeader } from './types.ts';

const SECTION = 'frame';
const HEADER_BYTES = FRAME.headerByteLength;

function checkKindAndFlags(kind: unknown, flags: unknown): void {
  if (!isUint(kind, 255) || kind === 0) throw invalidParameterError('kind', 'an integer between 1 and 255', kind);
  if (!isUint(flags, 255)) throw invalidParameterError('flags', 'an integer between 0 and 255', flags);
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

/** The 16-byte frame header for `payload`. [FRM-1] [FRM-2] */
export function encodeFrameHeader(kind: number, payload: Uint8Array, flags = 0): Uint8Array {
  checkKindAndFlags(kind, flags);
  checkPayload(payload);
  const bytes = new Uint8Array(HEADER_BYTES);
  writeFrameHeader(bytes, 0, kind, payload, flags);
  return bytes;
}

/** Bytes a frame occupies including padding: alignUp(16 + payloadByteLength, alignment). [FRM-5] */
export function frameExtent(payloadByteLength: number, alignment: number): number {
  return alignUp(HEADER_BYTES + payloadByteLength, alignment);
}

/**
 * A whole frame: header, payload and zero padding up to the next multiple of `alignment`
 * (the frame is assumed to start aligned). [FRM-5]
 */
export function encodeFrame(kind: number, payload: Uint8Array, alignment: number, flags = 0): Uint8Array {
  checkKindAndFlags(kind, flags);
  checkPayload(payload);
  if (!isValidAlignment(alignment)) throw invalidParameterError('alignment', '1 or a power of two up to 2^20', alignment);
  const bytes = new Uint8Array(frameExtent(payload.length, alignment));
  writeFrameHeader(bytes, 0, kind, payload, flags);
  bytes.set(payload, HEADER_BYTES);
  return bytes;
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
  const actualCrc = crc32c(bytes.subarray(0, FRAME.headerCrc.offset));
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
