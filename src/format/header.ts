// File header (64 bytes at offset 0) [HDR-1..HDR-9]. Checked in this order: length, signature,
// major version (a future major may move every other field), CRC, then the fields it protects.
import { FormatError, UnsupportedVersionError, invalidParameterError } from '../errors.ts';
import { crc32c } from './crc32c.ts';
import { viewOf } from './bytes.ts';
import { CRITICAL_FEATURE_MASK, FEATURE_EXTENDED_HEADER_CRC, FORMAT_MAJOR, FORMAT_MINOR, HEADER, MAX_ALIGNMENT, SIGNATURE, alignUp } from './layout.ts';
import type { FileHeader } from './types.ts';

const SECTION = 'header';

/** True for 1 (compact) and powers of two up to MAX_ALIGNMENT. [HDR-5] */
export function isValidAlignment(alignment: unknown): alignment is number {
  return (
    typeof alignment === 'number' &&
    Number.isInteger(alignment) &&
    alignment >= 1 &&
    alignment <= MAX_ALIGNMENT &&
    (alignment & (alignment - 1)) === 0
  );
}

/**
 * Encode a 2.x file header.
 * @param options.alignment 1 (compact) or a power of two up to 2^20
 * @param [options.featureFlags=0] u32; bits 0-15 are critical
 * @param [options.minorVersion=0] u8; only tests write anything but FORMAT_MINOR
 */
export function encodeHeader(options: { alignment: number; featureFlags?: number; minorVersion?: number }): Uint8Array {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
  const { alignment, featureFlags = 0, minorVersion = FORMAT_MINOR } = options;
  if (!isValidAlignment(alignment)) {
    throw invalidParameterError('options.alignment', `1 or a power of two up to ${MAX_ALIGNMENT}`, alignment);
  }
  if (!Number.isInteger(featureFlags) || featureFlags < 0 || featureFlags > 0xffffffff) {
    throw invalidParameterError('options.featureFlags', 'a u32 integer', featureFlags);
  }
  if (!Number.isInteger(minorVersion) || minorVersion < 0 || minorVersion > 255) {
    throw invalidParameterError('options.minorVersion', 'an integer between 0 and 255', minorVersion);
  }
  const bytes = new Uint8Array(HEADER.byteLength);
  const view = viewOf(bytes);
  bytes.set(SIGNATURE, HEADER.signature.offset);
  view.setUint8(HEADER.majorVersion.offset, FORMAT_MAJOR);
  view.setUint8(HEADER.minorVersion.offset, minorVersion);
  view.setUint16(HEADER.headerByteLength.offset, HEADER.byteLength, true);
  view.setUint32(HEADER.alignment.offset, alignment, true);
  view.setUint32(HEADER.featureFlags.offset, featureFlags, true);
  view.setUint32(HEADER.headerCrc.offset, crc32c(bytes.subarray(0, HEADER.headerCrc.offset)), true);
  return bytes;
}

/**
 * Decode the header from the first bytes of a file (at least 64). Throws FormatError for a bad
 * signature, CRC, header length or alignment, UnsupportedVersionError for a major other than 2
 * or an unknown critical feature bit. A newer minor is accepted. [VER-1] [VER-2]
 */
export function decodeHeader(bytes: Uint8Array): FileHeader {
  if (bytes.length < HEADER.byteLength) {
    throw new FormatError('file too short for a header', {
      section: SECTION,
      byteOffset: 0,
      expected: `>= ${HEADER.byteLength} bytes`,
      actual: bytes.length,
    });
  }
  for (let i = 0; i < SIGNATURE.length; i++) {
    if (bytes[i] !== SIGNATURE[i]) {
      throw new FormatError('bad signature (not a picpac 2 file)', {
        section: SECTION,
        byteOffset: i,
        expected: hex(SIGNATURE),
        actual: hex(bytes.subarray(0, SIGNATURE.length)),
      });
    }
  }
  const view = viewOf(bytes);
  const majorVersion = view.getUint8(HEADER.majorVersion.offset);
  if (majorVersion !== FORMAT_MAJOR) {
    throw new UnsupportedVersionError('unsupported major version', {
      section: SECTION,
      byteOffset: HEADER.majorVersion.offset,
      expected: FORMAT_MAJOR,
      actual: majorVersion,
    });
  }
  const storedCrc = view.getUint32(HEADER.headerCrc.offset, true);
  const actualCrc = crc32c(bytes.subarray(0, HEADER.headerCrc.offset));
  if (storedCrc !== actualCrc) {
    throw new FormatError('header CRC mismatch', {
      section: SECTION,
      byteOffset: HEADER.headerCrc.offset,
      expected: hex32(storedCrc),
      actual: hex32(actualCrc),
    });
  }
  const minorVersion = view.getUint8(HEADER.minorVersion.offset);
  const headerByteLength = view.getUint16(HEADER.headerByteLength.offset, true);
  if (headerByteLength < HEADER.byteLength) {
    throw new FormatError('header length too small', {
      section: SECTION,
      byteOffset: HEADER.headerByteLength.offset,
      expected: `>= ${HEADER.byteLength}`,
      actual: headerByteLength,
    });
  }
  const alignment = view.getUint32(HEADER.alignment.offset, true);
  if (!isValidAlignment(alignment)) {
    throw new FormatError('invalid alignment', {
      section: SECTION,
      byteOffset: HEADER.alignment.offset,
      expected: `1 or a power of two <= ${MAX_ALIGNMENT}`,
      actual: alignment,
    });
  }
  const featureFlags = view.getUint32(HEADER.featureFlags.offset, true);
  // No feature is defined in 2.0, so any critical bit is one this reader does not know. [HDR-6]
  const unknownCritical = featureFlags & CRITICAL_FEATURE_MASK;
  if (unknownCritical !== 0) {
    throw new UnsupportedVersionError('unknown critical feature flag', {
      section: SECTION,
      byteOffset: HEADER.featureFlags.offset,
      expected: '0x0000 in bits 0-15',
      actual: `0x${unknownCritical.toString(16).padStart(4, '0')}`,
    });
  }
  const header = { majorVersion, minorVersion, headerByteLength, alignment, featureFlags };
  if (bytes.length >= headerByteLength) checkExtendedHeaderCrc(bytes, header);
  return header;
}

/**
 * Bytes of the header a reader must read to check it: headerByteLength when the grown header
 * carries a CRC (feature bit 17, 2.1), else 64 (the bytes beyond are skipped unread). [HDR-9]
 */
export function headerBytesToCheck(header: FileHeader): number {
  return header.featureFlags & FEATURE_EXTENDED_HEADER_CRC ? header.headerByteLength : HEADER.byteLength;
}

/**
 * [HDR-9] With feature bit 17, bytes 56..59 hold the CRC32C of header bytes 64..headerByteLength-1
 * (the grown part a newer minor adds); `bytes` must hold at least headerBytesToCheck(header).
 */
export function checkExtendedHeaderCrc(bytes: Uint8Array, header: FileHeader): void {
  if ((header.featureFlags & FEATURE_EXTENDED_HEADER_CRC) === 0) return;
  if (bytes.length < header.headerByteLength) {
    throw new FormatError('file too short for its grown header', { section: SECTION, byteOffset: bytes.length, expected: `>= ${header.headerByteLength} bytes`, actual: bytes.length });
  }
  const stored = viewOf(bytes).getUint32(HEADER.extendedHeaderCrc.offset, true);
  const actual = crc32c(bytes.subarray(HEADER.byteLength, header.headerByteLength));
  if (stored !== actual) {
    throw new FormatError('extended header CRC mismatch (bytes 64 to headerByteLength-1)', { section: SECTION, byteOffset: HEADER.extendedHeaderCrc.offset, expected: hex32(stored), actual: hex32(actual) });
  }
}

/** Offset of the first frame: the header length rounded up to the alignment. [HDR-8] */
export function firstFrameOffset(header: FileHeader): number {
  return alignUp(header.headerByteLength, header.alignment);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** A u32 as `0x` and 8 lower-case hex digits, as error messages print CRCs and flags. */
export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}
