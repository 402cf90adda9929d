// Footer frame (kind 4, 48-byte payload), always the last 64 bytes of a finished file
// [FTR-1..FTR-7]. Written last, so a file without a valid footer is unfinished.
import { FormatError, UnfinishedFileError, UnsupportedVersionError, invalidParameterError } from '../errors.ts';
import type { FormatErrorDetails } from '../errors.ts';
import { crc32c } from './crc32c.ts';
import { isU32, isU64Safe, readU64, viewOf, writeU64 } from './bytes.ts';
import { CRITICAL_FOOTER_FLAG_MASK, FOOTER, FOOTER_FLAG_CRITICAL_FRAMES, FRAME, FRAME_MAGIC, FrameKind } from './layout.ts';
import type { Footer } from './types.ts';

const SECTION = 'footer';

/** The whole 64-byte footer frame (no padding after it: it ends the file). */
export function encodeFooterFrame(footer: Footer): Uint8Array {
  if (typeof footer !== 'object' || footer === null) throw invalidParameterError('footer', 'an object', footer);
  for (const key of ['indexOffset', 'recordCount', 'annotatedCount', 'footerOffset'] as const) {
    if (!isU64Safe(footer[key])) throw invalidParameterError(`footer.${key}`, 'an integer between 0 and 2^53-1', footer[key]);
  }
  if (!isU32(footer.generation) || footer.generation < 1) throw invalidParameterError('footer.generation', 'a u32 integer >= 1', footer.generation);
  if (footer.annotatedCount > footer.recordCount) throw invalidParameterError('footer.annotatedCount', 'at most recordCount', footer.annotatedCount);
  if (footer.indexOffset >= footer.footerOffset) throw invalidParameterError('footer.indexOffset', 'an offset before footerOffset', footer.indexOffset);
  const footerFlags = footer.footerFlags ?? 0;
  if (!isU32(footerFlags)) throw invalidParameterError('footer.footerFlags', 'a u32 integer', footerFlags);
  const bytes = new Uint8Array(FOOTER.frameByteLength);
  const payload = bytes.subarray(FRAME.headerByteLength);
  const pv = viewOf(payload);
  writeU64(pv, FOOTER.indexOffset.offset, footer.indexOffset);
  writeU64(pv, FOOTER.recordCount.offset, footer.recordCount);
  writeU64(pv, FOOTER.annotatedCount.offset, footer.annotatedCount);
  pv.setUint32(FOOTER.generation.offset, footer.generation, true);
  pv.setUint32(FOOTER.footerFlags.offset, footerFlags, true);
  writeU64(pv, FOOTER.footerOffset.offset, footer.footerOffset);
  const hv = viewOf(bytes);
  hv.setUint16(FRAME.magic.offset, FRAME_MAGIC, true);
  hv.setUint8(FRAME.kind.offset, FrameKind.footer);
  hv.setUint32(FRAME.payloadByteLength.offset, FOOTER.payloadByteLength, true);
  hv.setUint32(FRAME.payloadCrc.offset, crc32c(payload), true);
  hv.setUint32(FRAME.headerCrc.offset, crc32c(bytes.subarray(0, FRAME.headerCrc.offset)), true);
  return bytes;
}

/**
 * Decode the footer from the last 64 bytes of a file (`byteOffset` = file length - 64). Any
 * mismatch means the file is unfinished (or damaged at its end): UnfinishedFileError. [FTR-3]
 */
export function decodeFooterFrame(bytes: Uint8Array, byteOffset: number): Footer {
  const fail = (problem: string, d: Omit<FormatErrorDetails, 'section' | 'byteOffset'> & { at?: number } = {}): never => {
    throw new UnfinishedFileError(`no valid footer: ${problem}`, {
      section: SECTION,
      byteOffset: byteOffset + (d.at ?? 0),
      expected: d.expected,
      actual: d.actual,
    });
  };
  if (bytes.length !== FOOTER.frameByteLength) fail('wrong footer length', { expected: FOOTER.frameByteLength, actual: bytes.length });
  if (!Number.isSafeInteger(byteOffset) || byteOffset < 0) fail('file shorter than a footer', { actual: byteOffset });
  const hv = viewOf(bytes);
  const magic = hv.getUint16(FRAME.magic.offset, true);
  if (magic !== FRAME_MAGIC) fail('bad frame magic', { expected: FRAME_MAGIC, actual: magic });
  const headerCrc = crc32c(bytes.subarray(0, FRAME.headerCrc.offset));
  if (headerCrc !== hv.getUint32(FRAME.headerCrc.offset, true)) fail('frame header CRC mismatch', { at: FRAME.headerCrc.offset });
  const kind = hv.getUint8(FRAME.kind.offset);
  if (kind !== FrameKind.footer) fail('last frame is not a footer', { at: FRAME.kind.offset, expected: FrameKind.footer, actual: kind });
  const payloadByteLength = hv.getUint32(FRAME.payloadByteLength.offset, true);
  if (payloadByteLength !== FOOTER.payloadByteLength) fail('wrong footer payload length', { at: FRAME.payloadByteLength.offset, expected: FOOTER.payloadByteLength, actual: payloadByteLength });
  const payload = bytes.subarray(FRAME.headerByteLength);
  if (crc32c(payload) !== hv.getUint32(FRAME.payloadCrc.offset, true)) fail('footer payload CRC mismatch', { at: FRAME.headerByteLength });
  const pv = viewOf(payload);
  const place = { section: SECTION, byteOffset: byteOffset + FRAME.headerByteLength };
  let footer: Footer;
  try {
    footer = {
      indexOffset: readU64(pv, FOOTER.indexOffset.offset, 'index offset', place),
      recordCount: readU64(pv, FOOTER.recordCount.offset, 'record count', place),
      annotatedCount: readU64(pv, FOOTER.annotatedCount.offset, 'annotated count', place),
      generation: pv.getUint32(FOOTER.generation.offset, true),
      footerOffset: readU64(pv, FOOTER.footerOffset.offset, 'footer offset', place),
    };
  } catch (e) {
    if (e instanceof FormatError) return fail(e.message, { at: e.byteOffset - byteOffset, expected: e.expected, actual: e.actual });
    throw e;
  }
  // The footer names its own offset: a footer copied from an older commit, or a file with bytes
  // after its footer, does not pass. [FTR-4]
  if (footer.footerOffset !== byteOffset) fail('footer offset does not match its position', { at: 16 + FOOTER.footerOffset.offset, expected: byteOffset, actual: footer.footerOffset });
  if (footer.generation < 1) fail('generation 0', { at: 16 + FOOTER.generation.offset, expected: '>= 1', actual: 0 });
  if (footer.indexOffset >= byteOffset) fail('index offset not before the footer', { at: 16, expected: `< ${byteOffset}`, actual: footer.indexOffset });
  if (footer.annotatedCount > footer.recordCount) fail('more annotated records than records', { at: 32, expected: `<= ${footer.recordCount}`, actual: footer.annotatedCount });
  // 2.1 footer flags: a critical bit announces something this reader must implement to read
  // the file (bit 0: critical extension frames, which it implements none of), so that a reader
  // that opens through the index sees them without walking every frame. [FTR-8] [EXT-6]
  const footerFlags = pv.getUint32(FOOTER.footerFlags.offset, true);
  const critical = footerFlags & CRITICAL_FOOTER_FLAG_MASK;
  if (critical !== 0) {
    const what = critical & FOOTER_FLAG_CRITICAL_FRAMES ? 'the file holds critical extension frames (footer flag bit 0)' : 'unknown critical footer flag';
    throw new UnsupportedVersionError(what, { section: SECTION, byteOffset: byteOffset + 16 + FOOTER.footerFlags.offset, expected: '0x0000 in bits 0-15', actual: `0x${critical.toString(16).padStart(4, '0')}` });
  }
  if (footerFlags !== 0) footer.footerFlags = footerFlags;
  return footer;
}
