// Metadata frame payload (kind 5) [EXT-7]: u32 metadataFormat (1 = a JSON object), u32
// reserved, UTF-8 text. One document describes the whole file (its class table, …); the newest
// index block names the newest metadata frame [EXT-8], so a reader that opens through the index
// finds it with one read.
import { FormatError, invalidParameterError } from '../errors.ts';
import { isU32, viewOf } from './bytes.ts';
import { LIMITS, METADATA } from './layout.ts';

const SECTION = 'metadata';

/** Metadata format codes (metadata payload bytes 0..3); 1 = a UTF-8 JSON object. */
export const MetadataFormat = { json: 1 } as const;

/** A metadata frame payload: the format code and the UTF-8 text (a view when decoded). */
export interface MetadataPayload {
  metadataFormat: number;
  text: Uint8Array;
}

/**
 * Encode a metadata frame payload (8-byte head, then the text).
 * @throws TypeError when the format is not a non-zero u32, or the text is not a Uint8Array that fits one frame.
 */
export function encodeMetadataPayload(m: MetadataPayload): Uint8Array {
  if (typeof m !== 'object' || m === null) throw invalidParameterError('metadata', 'an object', m);
  if (!isU32(m.metadataFormat) || m.metadataFormat === 0) throw invalidParameterError('metadata.metadataFormat', 'a u32 MetadataFormat code (1 = json)', m.metadataFormat);
  if (!(m.text instanceof Uint8Array)) throw invalidParameterError('metadata.text', 'a Uint8Array of UTF-8', m.text);
  if (m.text.length > LIMITS.maxFramePayloadBytes - METADATA.headByteLength) throw invalidParameterError('metadata.text', 'text that fits a frame', m.text);
  const bytes = new Uint8Array(METADATA.headByteLength + m.text.length);
  viewOf(bytes).setUint32(METADATA.metadataFormat.offset, m.metadataFormat, true);
  bytes.set(m.text, METADATA.headByteLength);
  return bytes;
}

/** Decode a metadata payload (`byteOffset` = its absolute offset). `text` is a view. */
export function decodeMetadataPayload(payload: Uint8Array, byteOffset: number): MetadataPayload {
  if (payload.length < METADATA.headByteLength) {
    throw new FormatError('metadata payload shorter than its head', { section: SECTION, byteOffset, expected: `>= ${METADATA.headByteLength} bytes`, actual: payload.length });
  }
  const metadataFormat = viewOf(payload).getUint32(METADATA.metadataFormat.offset, true);
  if (metadataFormat === 0) {
    throw new FormatError('metadata format 0 is invalid', { section: SECTION, byteOffset: byteOffset + METADATA.metadataFormat.offset, expected: '>= 1', actual: 0 });
  }
  return { metadataFormat, text: payload.subarray(METADATA.headByteLength) };
}
