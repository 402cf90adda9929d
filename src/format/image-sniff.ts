// Recognise an encoded image by its first bytes and read its pixel size without decoding.
// Never throws: unknown or truncated input gives { codec: 0, width: 0, height: 0 }.
import { ImageCodec } from './layout.ts';
import type { ImageCodecCode } from './layout.ts';

/** What {@link sniffImage} found: the codec (0 = unknown) and the size in pixels (0 when unknown). */
export interface SniffedImage {
  codec: ImageCodecCode;
  width: number;
  height: number;
}

const UNKNOWN: SniffedImage = { codec: ImageCodec.unknown, width: 0, height: 0 };

/** Recognise an encoded image (JPEG, PNG, GIF, WebP, BMP, TIFF, AVIF, 1.0 raw) from its first bytes and read its size without decoding it. Never throws. */
export function sniffImage(bytes: Uint8Array): SniffedImage {
  try {
    if (!(bytes instanceof Uint8Array) || bytes.length < 4) return { ...UNKNOWN };
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return sniffPng(bytes, view) ?? sniffJpeg(bytes, view) ?? sniffGif(bytes, view) ?? sniffWebp(bytes, view) ??
      sniffBmp(bytes, view) ?? sniffTiff(bytes) ?? sniffAvif(bytes) ?? sniffV1Raw(bytes, view) ?? { ...UNKNOWN };
  } catch {
    return { ...UNKNOWN };
  }
}

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

function sniffPng(bytes: Uint8Array, view: DataView): SniffedImage | undefined {
  if (!startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return undefined;
  // IHDR must be the first chunk: length(4) "IHDR"(4) width(4) height(4), big-endian.
  if (bytes.length >= 24 && startsWith(bytes, [0x49, 0x48, 0x44, 0x52], 12)) {
    return { codec: ImageCodec.png, width: view.getUint32(16), height: view.getUint32(20) };
  }
  return { codec: ImageCodec.png, width: 0, height: 0 };
}

function sniffJpeg(bytes: Uint8Array, view: DataView): SniffedImage | undefined {
  if (!startsWith(bytes, [0xff, 0xd8, 0xff])) return undefined;
  let o = 2;
  while (o + 4 <= bytes.length) {
    if (bytes[o] !== 0xff) break;
    const marker = bytes[o + 1];
    if (marker === 0xff) {
      o++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      o += 2; // markers without a length
      continue;
    }
    const segmentLength = view.getUint16(o + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry height then width.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (o + 9 > bytes.length) break;
      return { codec: ImageCodec.jpeg, width: view.getUint16(o + 7), height: view.getUint16(o + 5) };
    }
    if (marker === 0xd9 || marker === 0xda || segmentLength < 2) break; // EOI / SOS before any SOF
    o += 2 + segmentLength;
  }
  return { codec: ImageCodec.jpeg, width: 0, height: 0 };
}

function sniffGif(bytes: Uint8Array, view: DataView): SniffedImage | undefined {
  if (!startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return undefined; // "GIF8"
  if (bytes.length < 10) return { codec: ImageCodec.gif, width: 0, height: 0 };
  return { codec: ImageCodec.gif, width: view.getUint16(6, true), height: view.getUint16(8, true) };
}

function sniffWebp(bytes: Uint8Array, view: DataView): SniffedImage | undefined {
  if (!startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) || !startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return undefined;
  const none = { codec: ImageCodec.webp, width: 0, height: 0 } as SniffedImage;
  if (bytes.length < 30) return none;
  const chunk = String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]);
  if (chunk === 'VP8 ' && startsWith(bytes, [0x9d, 0x01, 0x2a], 23)) {
    return { codec: ImageCodec.webp, width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  }
  if (chunk === 'VP8L' && bytes[20] === 0x2f) {
    const bits = view.getUint32(21, true);
    return { codec: ImageCodec.webp, width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    const w = bytes[24] | (bytes[25] << 8) | (bytes[26] << 16);
    const h = bytes[27] | (bytes[28] << 8) | (bytes[29] << 16);
    return { codec: ImageCodec.webp, width: w + 1, height: h + 1 };
  }
  return none;
}

function sniffBmp(bytes: Uint8Array, view: DataView): SniffedImage | undefined {
  if (!startsWith(bytes, [0x42, 0x4d]) || bytes.length < 26) return undefined; // "BM"
  const dibSize = view.getUint32(14, true);
  if (dibSize === 12) return { codec: ImageCodec.bmp, width: view.getUint16(18, true), height: view.getUint16(20, true) };
  if (dibSize < 40 || dibSize > 124) return undefined;
  return { codec: ImageCodec.bmp, width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
}

function sniffTiff(bytes: Uint8Array): SniffedImage | undefined {
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { codec: ImageCodec.tiff, width: 0, height: 0 };
  }
  return undefined;
}

function sniffAvif(bytes: Uint8Array): SniffedImage | undefined {
  // ISO-BMFF: box size (4) "ftyp" then a major brand avif/avis.
  if (!startsWith(bytes, [0x66, 0x74, 0x79, 0x70], 4) || bytes.length < 12) return undefined;
  const brand = String.fromCharCode(bytes[8], bytes[9], bytes[10], bytes[11]);
  return brand === 'avif' || brand === 'avis' ? { codec: ImageCodec.avif, width: 0, height: 0 } : undefined;
}

// OpenCV depth → bytes per channel, for the v1 raw matrix header (REFERENCE §1.1.7).
const CV_DEPTH_BYTES = [1, 1, 2, 2, 4, 4, 8];

function sniffV1Raw(bytes: Uint8Array, view: DataView): SniffedImage | undefined {
  if (bytes.length < 16) return undefined;
  const type = view.getInt32(0, true);
  const rows = view.getInt32(4, true);
  const cols = view.getInt32(8, true);
  const elemSize = view.getInt32(12, true);
  if (type < 0 || type > 511 || rows <= 0 || cols <= 0 || elemSize <= 0) return undefined;
  const depth = type & 7;
  const channels = (type >> 3) + 1;
  if (depth > 6 || CV_DEPTH_BYTES[depth] * channels !== elemSize) return undefined;
  if (rows * cols * elemSize !== bytes.length - 16) return undefined;
  return { codec: ImageCodec.v1raw, width: cols, height: rows };
}
