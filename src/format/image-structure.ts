// Is an encoded image structurally complete? A walk over the container structure, without
// decoding pixels: JPEG marker segments and entropy-coded scans up to the end-of-image marker
// (EOI), PNG chunks up to IEND, the RIFF length of WebP, the file size of BMP. Decoders differ in
// what they do with a truncated or damaged file — libjpeg fills the missing rows with grey and
// only warns, which is how a half-grey image reached training batches — so the importer and the
// stream check the structure first and refuse what fails.
//
// Rules (why each one):
// - JPEG: starts with SOI; every marker segment fits in the file; inside a scan, 0xFF is followed
//   by 0x00 (stuffing), a fill byte, or RST0..7 in sequence (the standard numbers restart
//   markers modulo 8, so random garbage breaks the sequence quickly); after a scan only the
//   markers that may follow a scan (DHT, DQT, DRI, DNL, APPn, COM, SOS, EOI, extensions) are
//   allowed; the file must reach EOI. A byte run copied from elsewhere or random bytes almost
//   never satisfy all of these for more than a few hundred bytes.
// - Bytes after EOI / IEND are not read by decoders. They are reported (`trailingBytes`, and
//   `trailer`: 'padding' for 0x00/0xFF fill, 'image' for an embedded JPEG such as an MPF
//   second picture, 'data' otherwise — camera trailers, or garbage) and the caller decides:
//   the importer accepts padding and embedded images and asks a full decode about 'data'.
// Pure bytes in, a result out; never throws.
import { ImageCodec } from './layout.ts';
import type { ImageCodecCode } from './layout.ts';
import { sniffImage } from './image-sniff.ts';

export type ImageStructure =
  /** The walk reached the end marker. `trailingBytes` follow it. */
  | { complete: true; checked: true; byteLength: number; trailingBytes: number; trailer: 'none' | 'padding' | 'image' | 'data' }
  /** Structurally broken: `problem` says what, at `byteOffset`. */
  | { complete: false; checked: true; problem: string; byteOffset: number; truncated: boolean }
  /** No structural rule for this codec (TIFF, AVIF, GIF, v1 raw): only a decode can tell. */
  | { complete: true; checked: false };

const NOT_CHECKED: ImageStructure = Object.freeze({ complete: true, checked: false });

/** Walk the structure of an encoded image (codec sniffed when not given). */
export function checkImageStructure(bytes: Uint8Array, codec: ImageCodecCode = sniffImage(bytes).codec): ImageStructure {
  try {
    switch (codec) {
      case ImageCodec.jpeg:
        return checkJpeg(bytes);
      case ImageCodec.png:
        return checkPng(bytes);
      case ImageCodec.webp:
        return checkRiff(bytes);
      case ImageCodec.bmp:
        return checkBmp(bytes);
      default:
        return NOT_CHECKED;
    }
  } catch {
    return broken('unreadable structure', 0, false);
  }
}

/** One line for messages: "JPEG data ends at byte 700 before the end-of-image marker (truncated file?)". */
export function describeImageStructure(result: ImageStructure): string {
  if (!result.checked) return 'structure not checked';
  if (!result.complete) return result.problem;
  return result.trailingBytes === 0 ? 'complete' : `complete, ${result.trailingBytes} bytes after the end marker (${result.trailer})`;
}

function broken(problem: string, byteOffset: number, truncated: boolean): ImageStructure {
  return { complete: false, checked: true, problem, byteOffset, truncated };
}

function complete(bytes: Uint8Array, end: number): ImageStructure {
  const trailingBytes = bytes.length - end;
  let trailer: 'none' | 'padding' | 'image' | 'data' = 'none';
  if (trailingBytes > 0) {
    let padding = true;
    for (let i = end; i < bytes.length; i++) {
      if (bytes[i] !== 0x00 && bytes[i] !== 0xff) {
        padding = false;
        break;
      }
    }
    // An embedded JPEG (MPF second image, some camera previews) may follow after padding.
    let start = end;
    while (start < bytes.length && (bytes[start] === 0x00)) start++;
    trailer = padding ? 'padding' : bytes[start] === 0xff && bytes[start + 1] === 0xd8 && bytes[start + 2] === 0xff ? 'image' : 'data';
  }
  return { complete: true, checked: true, byteLength: end, trailingBytes, trailer };
}

// ---- JPEG (ITU T.81 B.1) ----

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];

/** Markers that may appear between scans or after the last one (T.81 B.2.4, B.6; APPn, COM, JPGn). */
function allowedAfterScan(marker: number): boolean {
  return marker === 0xc4 || marker === 0xcc || marker === 0xdb || marker === 0xdc || marker === 0xdd || marker === 0xda ||
    (marker >= 0xe0 && marker <= 0xef) || marker === 0xfe || (marker >= 0xf0 && marker <= 0xfd);
}

function checkJpeg(b: Uint8Array): ImageStructure {
  const n = b.length;
  if (n < 4 || b[0] !== 0xff || b[1] !== 0xd8) return broken('JPEG does not start with the start-of-image marker', 0, false);
  const truncated = (at: number) => broken(`JPEG data ends at byte ${n} before the end-of-image marker (truncated file?)`, at, true);
  let o = 2;
  let scans = 0;
  for (;;) {
    if (o + 1 >= n) return truncated(n);
    if (b[o] !== 0xff) return broken(`JPEG: expected a marker at byte ${o}, got 0x${b[o].toString(16).padStart(2, '0')} (damaged data?)`, o, false);
    while (o + 1 < n && b[o + 1] === 0xff) o++; // fill bytes
    if (o + 1 >= n) return truncated(n);
    const marker = b[o + 1];
    if (marker === 0xd9) return complete(b, o + 2);
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      o += 2; // TEM, stray RST: no length
      continue;
    }
    const validHere = scans === 0 ? marker >= 0xc0 && marker !== 0xd8 : allowedAfterScan(marker);
    if (!validHere) return broken(`JPEG: marker 0xff${marker.toString(16).padStart(2, '0')} is not allowed at byte ${o} (damaged data?)`, o, false);
    if (o + 4 > n) return truncated(n);
    const length = u16(b, o + 2);
    if (length < 2) return broken(`JPEG: segment length ${length} at byte ${o + 2} is below 2`, o + 2, false);
    const next = o + 2 + length;
    if (next > n) return truncated(n);
    o = next;
    if (marker !== 0xda) continue;
    // Entropy-coded data of a scan: stuffed 0xFF00, RSTm in sequence, up to the next marker.
    scans++;
    let expectedRst = 0;
    for (;;) {
      const ff = b.indexOf(0xff, o);
      if (ff < 0 || ff + 1 >= n) return truncated(n);
      const after = b[ff + 1];
      if (after === 0x00) {
        o = ff + 2;
      } else if (after >= 0xd0 && after <= 0xd7) {
        if (after - 0xd0 !== expectedRst) {
          return broken(`JPEG: restart marker RST${after - 0xd0} out of sequence at byte ${ff} (expected RST${expectedRst}; damaged data?)`, ff, false);
        }
        expectedRst = (expectedRst + 1) & 7;
        o = ff + 2;
      } else if (after === 0xff) {
        o = ff + 1;
      } else {
        o = ff;
        break;
      }
    }
  }
}

// ---- PNG (ISO 15948 §5.3) ----

function isChunkTypeByte(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function checkPng(b: Uint8Array): ImageStructure {
  const n = b.length;
  if (n < 8) return broken('PNG shorter than its signature', 0, true);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 8;
  let first = true;
  let sawData = false;
  for (;;) {
    if (o + 12 > n) return broken(`PNG data ends at byte ${n} before the IEND chunk (truncated file?)`, n, true);
    const length = view.getUint32(o);
    const type = String.fromCharCode(b[o + 4], b[o + 5], b[o + 6], b[o + 7]);
    if (length > 0x7fffffff || ![4, 5, 6, 7].every((k) => isChunkTypeByte(b[o + k]))) {
      return broken(`PNG: not a chunk at byte ${o} (damaged data?)`, o, false);
    }
    if (first && type !== 'IHDR') return broken(`PNG: the first chunk is ${JSON.stringify(type)}, not IHDR`, o, false);
    first = false;
    const next = o + 12 + length;
    if (next > n) return broken(`PNG data ends at byte ${n} inside the ${type} chunk at byte ${o} (truncated file?)`, o, true);
    if (type === 'IDAT') sawData = true;
    if (type === 'IEND') {
      if (!sawData) return broken('PNG has no IDAT chunk before IEND', o, false);
      return complete(b, next);
    }
    o = next;
  }
}

// ---- WebP (RIFF) and BMP: the container states its length ----

function checkRiff(b: Uint8Array): ImageStructure {
  if (b.length < 12) return broken('WebP shorter than its RIFF header', 0, true);
  const size = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(4, true);
  const end = 8 + size + (size & 1);
  if (end > b.length + (size & 1)) return broken(`WebP data ends at byte ${b.length}; its RIFF header says ${8 + size} bytes (truncated file?)`, b.length, true);
  return complete(b, Math.min(end, b.length));
}

function checkBmp(b: Uint8Array): ImageStructure {
  if (b.length < 26) return broken('BMP shorter than its headers', 0, true);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const fileSize = view.getUint32(2, true);
  const dataOffset = view.getUint32(10, true);
  if (dataOffset > b.length) return broken(`BMP pixel data starts at byte ${dataOffset}, past the end (${b.length} bytes; truncated file?)`, b.length, true);
  // Some writers leave bfSize 0; then only the pixel offset can be checked.
  if (fileSize !== 0 && fileSize > b.length) return broken(`BMP data ends at byte ${b.length}; its header says ${fileSize} bytes (truncated file?)`, b.length, true);
  return complete(b, fileSize === 0 ? b.length : fileSize);
}
