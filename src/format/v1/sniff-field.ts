// Classify a 1.0 field by its content: 1.0 writers never set a field type, so readers guess,
// as the HEAD loader did (an annotation whose first non-blank byte is `{` is JSON).
import { sniffImage } from '../image-sniff.ts';
import { ImageCodec, type ImageCodecCode } from '../layout.ts';
import { viewOf } from '../bytes.ts';
import { RAW_MATRIX } from './layout.ts';
import { cvElemSize } from './raw-matrix.ts';

export type V1FieldClass = 'empty' | 'image' | 'raw' | 'json' | 'bytes';

export interface SniffedV1Field {
  fieldClass: V1FieldClass;
  /** ImageCodec for 'image' and 'raw' (v1raw), else 0. */
  codec: ImageCodecCode;
  /** Pixels when the bytes seen tell them, else 0. */
  width: number;
  height: number;
}

export interface SniffV1FieldOptions {
  /**
   * Full length of the field when `bytes` is only its beginning (a peek): the raw matrix check
   * needs it. Default: bytes.length.
   */
  byteLength?: number;
}

/**
 * Order: empty; an encoded image known to sniffImage (JPEG, PNG, WebP, GIF, BMP, TIFF, AVIF);
 * a raw matrix whose 16-byte header is consistent with the field length (rows, cols >= 1);
 * JSON when the first non-blank byte is `{`; else bytes. Never throws.
 */
export function sniffV1Field(bytes: Uint8Array, options?: SniffV1FieldOptions): SniffedV1Field {
  const byteLength = options?.byteLength ?? bytes.length;
  if (byteLength === 0) return { fieldClass: 'empty', codec: ImageCodec.unknown, width: 0, height: 0 };
  const image = sniffImage(bytes);
  if (image.codec !== ImageCodec.unknown && image.codec !== ImageCodec.v1raw) {
    return { fieldClass: 'image', codec: image.codec, width: image.width, height: image.height };
  }
  const raw = rawMatrixShape(bytes, byteLength);
  if (raw) return { fieldClass: 'raw', codec: ImageCodec.v1raw, width: raw.cols, height: raw.rows };
  if (startsLikeJson(bytes)) return { fieldClass: 'json', codec: ImageCodec.unknown, width: 0, height: 0 };
  return { fieldClass: 'bytes', codec: ImageCodec.unknown, width: 0, height: 0 };
}

/** HEAD's guess: the first byte that is not C `isspace` is `{`. */
export function startsLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0x20 || (b >= 0x09 && b <= 0x0d)) continue;
    return b === 0x7b;
  }
  return false;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The annotation text of a JSON-looking field, or undefined when the bytes are not valid UTF-8
 * (then the text could not be written back byte for byte, so the field stays bytes).
 */
export function decodeV1AnnotationText(bytes: Uint8Array): string | undefined {
  if (!startsLikeJson(bytes)) return undefined;
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function rawMatrixShape(bytes: Uint8Array, byteLength: number): { rows: number; cols: number } | undefined {
  if (bytes.length < RAW_MATRIX.headByteLength) return undefined;
  const view = viewOf(bytes);
  const type = view.getInt32(RAW_MATRIX.cvType.offset, true);
  const rows = view.getInt32(RAW_MATRIX.rows.offset, true);
  const cols = view.getInt32(RAW_MATRIX.cols.offset, true);
  const elemSize = view.getInt32(RAW_MATRIX.elemSize.offset, true);
  if (rows < 1 || cols < 1 || elemSize !== cvElemSize(type)) return undefined;
  return rows * cols * elemSize === byteLength - RAW_MATRIX.headByteLength ? { rows, cols } : undefined;
}
