// Ingest-time shrinking with sharp: images whose LONG side exceeds maxSize are resized to fit
// (aspect kept) and re-encoded in their own format (JPEG stays JPEG at `quality`, PNG stays
// PNG, WebP stays WebP); anything else sharp can read becomes PNG (lossless), and so do label
// images (masks), which are resampled nearest-neighbour. Images already small enough are
// returned untouched, byte for byte.
import sharp from 'sharp';
import { ImageCodec } from '../format/layout.ts';

export interface ReencodeOptions {
  /** Longest side allowed, pixels. */
  maxSize: number;
  /** JPEG/WebP quality 1..100 (default 90). */
  quality?: number;
  /** Label images (masks): nearest-neighbour sampling, so class values are never blended. */
  nearest?: boolean;
}

export interface ReencodedImage {
  bytes: Uint8Array;
  codec: number;
  width: number;
  height: number;
  /** True when the bytes were re-encoded. */
  changed: boolean;
}

/** Never pays for a decode of an image that is small enough: the sniffed size decides. */
export async function shrinkImage(
  bytes: Uint8Array,
  sniffed: { codec: number; width: number; height: number },
  options: ReencodeOptions,
): Promise<ReencodedImage> {
  const { maxSize } = options;
  const quality = options.quality ?? 90;
  const known = sniffed.width > 0 && sniffed.height > 0;
  if (known && Math.max(sniffed.width, sniffed.height) <= maxSize) {
    return { ...sniffed, bytes, changed: false };
  }
  // limitInputPixels stays at sharp's safe default: a decompression bomb fails, and the caller
  // reports it like any unreadable input.
  const pipeline = sharp(bytes, { failOn: 'error' });
  let width = sniffed.width;
  let height = sniffed.height;
  if (!known) {
    const meta = await pipeline.metadata();
    width = meta.width ?? 0;
    height = meta.height ?? 0;
    if (Math.max(width, height) <= maxSize) return { ...sniffed, width, height, bytes, changed: false };
  }
  const scale = maxSize / Math.max(width, height);
  const targetWidth = Math.max(1, Math.round(width * scale));
  const targetHeight = Math.max(1, Math.round(height * scale));
  const resized = pipeline.resize(targetWidth, targetHeight, { fit: 'fill', ...(options.nearest ? { kernel: 'nearest' as const } : {}) });
  let codec: number;
  if (sniffed.codec === ImageCodec.jpeg && !options.nearest) {
    resized.jpeg({ quality });
    codec = ImageCodec.jpeg;
  } else if (sniffed.codec === ImageCodec.webp && !options.nearest) {
    resized.webp({ quality });
    codec = ImageCodec.webp;
  } else {
    resized.png();
    codec = ImageCodec.png;
  }
  const out = await resized.toBuffer({ resolveWithObject: true });
  return {
    bytes: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength),
    codec,
    width: out.info.width,
    height: out.info.height,
    changed: true,
  };
}
