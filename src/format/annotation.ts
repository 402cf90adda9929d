// Annotation frame payload: u64 recordIndex, u32 format (1 = JSON), u32 reserved, UTF-8 text
// [ANN-1..ANN-7]. The newest annotation frame for a record wins; empty text removes it.
import { FormatError, invalidParameterError } from '../errors.ts';
import { isU32, isU64Safe, readU64, viewOf, writeU64 } from './bytes.ts';
import { ANNOTATION, LIMITS } from './layout.ts';
import type { AnnotationPayload } from './types.ts';

const SECTION = 'annotation';

/**
 * Encode an annotation frame payload (16-byte head, then the text; empty text removes the annotation).
 * @throws TypeError when recordIndex is not an integer in 0..2^53-1, the format is not a non-zero u32, or the text is not a Uint8Array that fits one frame.
 */
export function encodeAnnotationPayload(a: AnnotationPayload): Uint8Array {
  if (typeof a !== 'object' || a === null) throw invalidParameterError('annotation', 'an object', a);
  if (!isU64Safe(a.recordIndex)) throw invalidParameterError('annotation.recordIndex', 'an integer between 0 and 2^53-1', a.recordIndex);
  if (!isU32(a.annotationFormat) || a.annotationFormat === 0) {
    throw invalidParameterError('annotation.annotationFormat', 'a u32 AnnotationFormat code (1 = json)', a.annotationFormat);
  }
  if (!(a.text instanceof Uint8Array)) throw invalidParameterError('annotation.text', 'a Uint8Array of UTF-8', a.text);
  if (a.text.length > LIMITS.maxFramePayloadBytes - ANNOTATION.headByteLength) {
    throw invalidParameterError('annotation.text', 'text that fits a frame', a.text);
  }
  const bytes = new Uint8Array(ANNOTATION.headByteLength + a.text.length);
  const view = viewOf(bytes);
  writeU64(view, ANNOTATION.recordIndex.offset, a.recordIndex);
  view.setUint32(ANNOTATION.annotationFormat.offset, a.annotationFormat, true);
  bytes.set(a.text, ANNOTATION.headByteLength);
  return bytes;
}

/** Decode an annotation payload (`byteOffset` = its absolute offset). `text` is a view. */
export function decodeAnnotationPayload(payload: Uint8Array, byteOffset: number): AnnotationPayload {
  if (payload.length < ANNOTATION.headByteLength) {
    throw new FormatError('annotation payload shorter than its head', {
      section: SECTION,
      byteOffset,
      expected: `>= ${ANNOTATION.headByteLength} bytes`,
      actual: payload.length,
    });
  }
  const view = viewOf(payload);
  const recordIndex = readU64(view, ANNOTATION.recordIndex.offset, 'annotation record index', { section: SECTION, byteOffset });
  const annotationFormat = view.getUint32(ANNOTATION.annotationFormat.offset, true);
  if (annotationFormat === 0) {
    throw new FormatError('annotation format 0 is invalid', {
      section: SECTION,
      byteOffset: byteOffset + ANNOTATION.annotationFormat.offset,
      recordIndex,
      expected: '>= 1',
      actual: 0,
    });
  }
  return { recordIndex, annotationFormat, text: payload.subarray(ANNOTATION.headByteLength) };
}
