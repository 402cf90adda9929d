// Encoded bytes → Image, through a small decoder registry (STYLE §11).
//
// The hot path is synchronous and single-threaded per call so it runs inside worker_threads.
// JPEG: libjpeg-turbo through `@julusian/jpeg-turbo` (an optional peer dependency: prebuilt N-API
// binaries for every platform, 7.6 MB; used when installed) decoded the stream's q90 photographs 2.2–2.7× faster per core than `@napi-rs/image`
// on both CPU kinds of this project (Intel Xeon, REFERENCE §4.2; AMD EPYC, docs/performance.md);
// it is registered last, so it is tried first. `@napi-rs/image` follows (tiny per-call overhead,
// PNG/WebP/GIF/BMP too); sharp is the async fallback for everything else (AVIF, TIFF, …) and
// remains the ingest-time tool. When a sync decoder fails (e.g. libjpeg-turbo refuses a CMYK
// JPEG or warns on a truncated one) the next one is tried, so adding a decoder never makes an
// image that decoded before fail now.
// The pixel size is read from the header (src/format/image-sniff.ts) BEFORE decoding, so
// `maxImagePixels` is enforced without allocating the pixels of a decompression bomb.
import { createRequire } from 'node:module';
import { FormatError, invalidParameterError, outOfRangeError } from '../../errors.ts';
import { sniffImage } from '../../format/image-sniff.ts';
import type { SniffedImage } from '../../format/image-sniff.ts';
import { ImageCodec } from '../../format/layout.ts';
import type { ImageCodecCode } from '../../format/layout.ts';
import {
  DEFAULT_MAX_IMAGE_PIXELS, UnsupportedPixelFormatError, checkPixelLimit, convertChannels, toUint8,
} from './image.ts';
import type { ChannelCount, Image } from './image.ts';
import { assertImageComplete } from './image-complete.ts';
import { guardedNativeCall } from './native-guard.ts';

export interface ImageDecoder {
  readonly name: string;
  /** Codecs (ImageCodec) this decoder accepts. */
  readonly codecs: readonly ImageCodecCode[];
  /**
   * Synchronous decode (usable on the worker hot path). `header` is what the sniffer read.
   * `into`, when given, is a caller-owned scratch buffer the decoder MAY write the pixels into
   * (the returned Image then aliases it) when it is large enough; decoders may ignore it.
   */
  readonly decodeSync?: (bytes: Uint8Array, header: SniffedImage, into?: Uint8Array) => Image;
  /** Asynchronous decode, for decoders that have no sync entry point. */
  readonly decode?: (bytes: Uint8Array, header: SniffedImage) => Promise<Image>;
  /** False when the backing package is missing; the registry then skips it. */
  readonly isAvailable?: () => boolean;
  /**
   * True when decodeSync throws on every truncated or damaged stream instead of returning partial
   * pixels (libjpeg-turbo here: each libjpeg warning is an error). The structure check that
   * otherwise runs before decoding (image-complete.ts: no half-grey images) is then left for when
   * this decoder fails: its success already says the image is whole.
   */
  readonly rejectsDamaged?: boolean;
}

export interface DecodeImageOptions {
  /** v1 `decode_mode`: -1 unchanged (default), 0 grey 8-bit, 1 colour 8-bit (alpha dropped). */
  decodeMode?: -1 | 0 | 1;
  /** v1 `channels`: ≤ 0 keeps the decoded count (default 0); 1 or 3 (or 4) converts. */
  channels?: number;
  /** Refuse images with more pixels than this, before decoding. Default 0x3FFF² (sharp's). */
  maxImagePixels?: number;
  /** Record ordinal, named in errors. */
  recordIndex?: number;
  /**
   * Scratch for the pixels (8-bit decoders that can write into a caller buffer use it when it is
   * large enough, saving an allocation per image): the result may alias it, so it is valid only
   * until the buffer is reused. Ignored by decodeImage (async).
   */
  into?: Uint8Array;
}

const registry: ImageDecoder[] = [];

/** Register a decoder; later registrations win for the codecs they share. Validated eagerly. */
export function registerImageDecoder(decoder: ImageDecoder): void {
  if (decoder === null || typeof decoder !== 'object') throw invalidParameterError('decoder', 'an ImageDecoder object', decoder);
  if (typeof decoder.name !== 'string' || decoder.name.length === 0) {
    throw invalidParameterError('decoder.name', 'a non-empty string', decoder.name);
  }
  if (!Array.isArray(decoder.codecs) || decoder.codecs.length === 0 ||
      !decoder.codecs.every((c) => Object.values(ImageCodec).includes(c as ImageCodecCode))) {
    throw invalidParameterError('decoder.codecs', 'a non-empty array of ImageCodec values', decoder.codecs);
  }
  if (typeof decoder.decodeSync !== 'function' && typeof decoder.decode !== 'function') {
    throw invalidParameterError('decoder.decodeSync', 'a function (or decoder.decode)', decoder.decodeSync);
  }
  if (decoder.rejectsDamaged !== undefined && typeof decoder.rejectsDamaged !== 'boolean') {
    throw invalidParameterError('decoder.rejectsDamaged', 'a boolean', decoder.rejectsDamaged);
  }
  const existing = registry.findIndex((d) => d.name === decoder.name);
  if (existing >= 0) registry.splice(existing, 1);
  registry.unshift(decoder);
}

export function listImageDecoders(): readonly ImageDecoder[] {
  return [...registry];
}

function usable(d: ImageDecoder, codec: ImageCodecCode, needSync: boolean): boolean {
  if (!d.codecs.includes(codec)) return false;
  if (needSync && typeof d.decodeSync !== 'function') return false;
  return !d.isAvailable || d.isAvailable();
}

function findDecoder(codec: ImageCodecCode, needSync: boolean): ImageDecoder | undefined {
  return registry.find((d) => usable(d, codec, needSync));
}

/** The synchronous decoders for a codec, in the order they are tried (the fallback chain). */
export function syncDecoderChain(codec: ImageCodecCode): readonly ImageDecoder[] {
  return registry.filter((d) => usable(d, codec, true));
}

/**
 * A decoder saying "not mine" (e.g. libjpeg-turbo and a CMYK JPEG) rather than "these bytes are
 * bad": the chain moves on, and the error reported is another decoder's when there is one.
 */
export class DecoderDeclinedError extends UnsupportedPixelFormatError {}

/**
 * The sync decoders for a codec in the order they are tried, each asked whether its package is
 * available only when reached: a worker whose first decoder succeeds never loads the next ones
 * (loading @napi-rs/image's addon cost each stream worker ~50 ms of start-up).
 */
function* syncCandidates(codec: ImageCodecCode): Generator<ImageDecoder> {
  for (const d of registry) {
    if (d.codecs.includes(codec) && typeof d.decodeSync === 'function' && (!d.isAvailable || d.isAvailable())) yield d;
  }
}

/** Load the package of the first available sync decoder for `codec` (a worker's warm-up). */
export function loadFirstDecoder(codec: ImageCodecCode): void {
  syncCandidates(codec).next();
}

/**
 * Try each sync decoder in turn; the first success wins. Otherwise the first real failure is
 * thrown (a decline only when every decoder declined). Undefined when no sync decoder is available.
 */
function decodeWithChain(bytes: Uint8Array, p: Prepared): Image | undefined {
  let failure: FormatError | undefined;
  let declined: DecoderDeclinedError | undefined;
  let tried = false;
  for (const decoder of syncCandidates(p.codec)) {
    if (decoder.rejectsDamaged !== true) ensureComplete(bytes, p);
    tried = true;
    try {
      return decoder.decodeSync!(bytes, p.header, p.options.into);
    } catch (e) {
      if (e instanceof DecoderDeclinedError) declined ??= e;
      else failure ??= decodeFailed(e, p, decoder.name);
    }
  }
  // No decoder vouched for the bytes: a truncated or damaged image is named as such.
  ensureComplete(bytes, p);
  if (!tried) return undefined;
  if (failure !== undefined) throw failure;
  const rec = p.options.recordIndex === undefined ? '' : ` (record ${p.options.recordIndex})`;
  throw new UnsupportedPixelFormatError(`${declined!.message}${rec}`);
}

interface Prepared {
  codec: ImageCodecCode;
  header: SniffedImage;
  options: Required<Omit<DecodeImageOptions, 'recordIndex' | 'into'>> & { recordIndex?: number; into?: Uint8Array };
  /** The structure check has run (ensureComplete). */
  checked: boolean;
}

/**
 * Hostile-input hook: no half-grey images (image-complete.ts). Runs once, before the first
 * decoder that does not reject damaged streams itself, and whenever no decoder succeeded.
 */
function ensureComplete(bytes: Uint8Array, p: Prepared): void {
  if (p.checked) return;
  p.checked = true;
  assertImageComplete(bytes, p.codec, p.options.recordIndex);
}

function prepare(bytes: Uint8Array, options: DecodeImageOptions | undefined): Prepared {
  if (!(bytes instanceof Uint8Array)) throw invalidParameterError('bytes', 'a Uint8Array', bytes);
  const decodeMode = options?.decodeMode ?? -1;
  if (decodeMode !== -1 && decodeMode !== 0 && decodeMode !== 1) throw invalidParameterError('decodeMode', 'one of -1, 0, 1', decodeMode);
  const channels = options?.channels ?? 0;
  if (!Number.isInteger(channels) || channels > 4 || channels === 2) {
    throw invalidParameterError('channels', 'an integer ≤ 0 or one of 1, 3, 4', channels);
  }
  const maxImagePixels = options?.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  if (!(maxImagePixels > 0)) throw outOfRangeError('maxImagePixels', 'a positive number', maxImagePixels);
  const recordIndex = options?.recordIndex;
  const into = options?.into;
  if (into !== undefined && !(into instanceof Uint8Array)) throw invalidParameterError('into', 'a Uint8Array', into);
  const sniffed = sniffImage(bytes);
  if (sniffed.codec === ImageCodec.unknown) {
    throw new FormatError('unrecognised image bytes', {
      section: 'image', byteOffset: 0, recordIndex, expected: 'JPEG, PNG, WebP, GIF, BMP, TIFF, AVIF or v1 raw matrix',
      actual: hexPrefix(bytes),
    });
  }
  if (sniffed.width > 0 && sniffed.height > 0) checkPixelLimit(sniffed.width, sniffed.height, maxImagePixels, recordIndex);
  return { codec: sniffed.codec, header: sniffed, options: { decodeMode, channels, maxImagePixels, recordIndex, into }, checked: false };
}

function finish(image: Image, p: Prepared): Image {
  checkPixelLimit(image.width, image.height, p.options.maxImagePixels, p.options.recordIndex);
  let out = image;
  if (out.channels === 2) out = convertChannels(out, 4); // grey+alpha → RGBA, like OpenCV's PNG reader
  if (p.options.decodeMode === 0) out = convertChannels(toUint8(out), 1);
  else if (p.options.decodeMode === 1) out = convertChannels(toUint8(out), 3);
  return convertChannels(out, p.options.channels);
}

function decodeFailed(cause: unknown, p: Prepared, decoder: string): FormatError {
  if (cause instanceof FormatError || cause instanceof UnsupportedPixelFormatError) return cause as FormatError;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new FormatError(`image decode failed (${decoder}: ${message})`, {
    section: 'image', byteOffset: 0, recordIndex: p.options.recordIndex,
  }, 'FORMAT', { cause });
}

function noDecoder(p: Prepared, sync: boolean): UnsupportedPixelFormatError {
  const name = Object.entries(ImageCodec).find(([, v]) => v === p.codec)?.[0] ?? String(p.codec);
  const rec = p.options.recordIndex === undefined ? '' : ` (record ${p.options.recordIndex})`;
  return new UnsupportedPixelFormatError(`no ${sync ? 'synchronous ' : ''}decoder registered for ${name} images${rec}`);
}

/** Decode on the calling thread (the worker hot path). Throws if only async decoders handle the codec. */
export function decodeImageSync(bytes: Uint8Array, options?: DecodeImageOptions): Image {
  const p = prepare(bytes, options);
  const image = decodeWithChain(bytes, p);
  if (image === undefined) throw noDecoder(p, true);
  return finish(image, p);
}

/** Decode with any registered decoder (sync ones preferred; sharp covers the rest). */
export async function decodeImage(bytes: Uint8Array, options?: DecodeImageOptions): Promise<Image> {
  const p = prepare(bytes, { ...options, into: undefined });
  const synced = decodeWithChain(bytes, p);
  if (synced !== undefined) return finish(synced, p);
  const decoder = findDecoder(p.codec, false);
  if (!decoder) throw noDecoder(p, false);
  let image: Image;
  try {
    image = await decoder.decode!(bytes, p.header);
  } catch (e) {
    throw decodeFailed(e, p, decoder.name);
  }
  return finish(image, p);
}

function hexPrefix(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ') || '(empty)';
}

// ---------------------------------------------------------------------------------------------
// Built-in decoders. Packages load lazily, so a missing optional package only disables its entry.

const require = createRequire(import.meta.url);

function lazy<T>(load: () => T): () => T | null {
  let state: { value: T | null } | undefined;
  return () => {
    if (state === undefined) {
      try {
        state = { value: load() };
      } catch {
        state = { value: null };
      }
    }
    return state.value;
  };
}

type NapiTransformer = { rawPixelsSync(): Uint8Array; metadataSync(): { width: number; height: number } };
const napiImage = lazy(() => require('@napi-rs/image') as { Transformer: new (input: Uint8Array) => NapiTransformer });
interface SharpPipeline {
  metadata(): Promise<{ depth?: string; channels?: number }>;
  toColourspace(space: string): SharpPipeline;
  raw(options?: { depth: string }): { toBuffer(o: { resolveWithObject: true }): Promise<{ data: Uint8Array; info: { width: number; height: number; channels: number } }> };
}
type SharpModule = (input: Uint8Array, options?: object) => SharpPipeline;
const sharpModule = lazy(() => require('sharp') as SharpModule);

/** Wrap decoder output (native-endian samples) as an Image, inferring channels from the length. */
export function imageFromRawSamples(raw: Uint8Array, width: number, height: number, bytesPerSample: 1 | 2): Image {
  const pixelCount = width * height;
  const channels = pixelCount > 0 ? raw.length / (pixelCount * bytesPerSample) : 0;
  if (!(channels === 1 || channels === 2 || channels === 3 || channels === 4)) {
    throw new UnsupportedPixelFormatError(
      `decoder returned ${raw.length} bytes for ${width}x${height} with ${bytesPerSample}-byte samples`);
  }
  let data: Uint8Array | Uint16Array;
  // A plain view, never the Buffer itself: Buffer#slice aliases, and kernels rely on slice() copying.
  if (bytesPerSample === 1) data = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  else if (raw.byteOffset % 2 === 0) data = new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  else data = new Uint16Array(raw.slice().buffer);
  return { width, height, channels: channels as ChannelCount, data };
}

function pngBitDepth(bytes: Uint8Array): number {
  return bytes.length > 24 && bytes[12] === 0x49 && bytes[15] === 0x52 ? bytes[24] : 8; // IHDR bit depth
}

registerImageDecoder({
  name: 'sharp',
  codecs: [ImageCodec.jpeg, ImageCodec.png, ImageCodec.webp, ImageCodec.gif, ImageCodec.tiff, ImageCodec.avif],
  isAvailable: () => sharpModule() !== null,
  decode: async (bytes) => {
    const sharp = sharpModule()!;
    // limitInputPixels is enforced by prepare() from the header; sharp's own check stays on too.
    // sharp's raw output defaults to 8-bit sRGB; keep grey as grey and 16-bit as 16-bit.
    const meta = await sharp(bytes, { limitInputPixels: DEFAULT_MAX_IMAGE_PIXELS }).metadata();
    const wide = meta.depth === 'ushort';
    const grey = (meta.channels ?? 3) <= 2;
    let pipeline = sharp(bytes, { limitInputPixels: DEFAULT_MAX_IMAGE_PIXELS });
    if (wide) pipeline = pipeline.toColourspace(grey ? 'grey16' : 'rgb16');
    else if (grey) pipeline = pipeline.toColourspace('b-w');
    const { data, info } = await pipeline.raw(wide ? { depth: 'ushort' } : undefined).toBuffer({ resolveWithObject: true });
    const bytesPerSample = data.length === info.width * info.height * info.channels * 2 ? 2 : 1;
    return imageFromRawSamples(data, info.width, info.height, bytesPerSample);
  },
});

registerImageDecoder({
  name: '@napi-rs/image',
  // No GIF: its decoder answers "format Gif is not supported"; sharp (async) decodes GIF instead.
  codecs: [ImageCodec.jpeg, ImageCodec.png, ImageCodec.webp, ImageCodec.bmp],
  isAvailable: () => napiImage() !== null,
  decodeSync: (bytes, header) => {
    const transformer = new (napiImage()!.Transformer)(bytes);
    let { width, height } = header;
    if (width === 0 || height === 0) {
      // The sniffer found no size (unusual marker layout): ask the decoder (slower; rare).
      ({ width, height } = transformer.metadataSync());
    }
    const raw = transformer.rawPixelsSync();
    const bytesPerSample = header.codec === ImageCodec.png && pngBitDepth(bytes) === 16 ? 2 : 1;
    return imageFromRawSamples(raw, width, height, bytesPerSample);
  },
});

interface JpegTurbo {
  FORMAT_RGB: number;
  FORMAT_GRAY: number;
  decompressSync(image: Uint8Array, out: Uint8Array, options: { format: number }): { data: Uint8Array; width: number; height: number };
}
// 2.x: N-API 7 binaries. 3.x ships N-API 10 only, which Node 20 (N-API 9) cannot load (the
// process crashes in dlopen instead of throwing), so package.json pins ~2.3. Every call into the
// binding, its loading included, is a guardedNativeCall: a worker terminated inside it aborts
// the process (native-guard.ts).
const jpegTurbo = lazy(() => guardedNativeCall(() => require('@julusian/jpeg-turbo') as JpegTurbo));

/** Colour components of a baseline/progressive JPEG (from its SOFn segment); 0 when not found. */
export function jpegComponentCount(bytes: Uint8Array): number {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return 0;
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return bytes[i + 9];
    if (marker === 0xda || marker === 0xd9) return 0;
    i += 2 + ((bytes[i + 2] << 8) | bytes[i + 3]);
  }
  return 0;
}

registerImageDecoder({
  name: '@julusian/jpeg-turbo',
  codecs: [ImageCodec.jpeg],
  isAvailable: () => jpegTurbo() !== null,
  // The binding throws on every libjpeg warning (premature end of data, a marker in the wrong
  // place, corrupt entropy data): a stream it decodes is whole (test/augment/decode-chain.test.ts).
  rejectsDamaged: true,
  decodeSync: (bytes, header, into) => {
    const turbo = jpegTurbo()!;
    // Grey stays grey (like sharp and OpenCV's IMREAD_UNCHANGED); CMYK/YCCK (4 components) is
    // left to the next decoder: libjpeg-turbo's TurboJPEG API cannot convert it to RGB.
    const components = jpegComponentCount(bytes);
    if (components !== 1 && components !== 3) throw new DecoderDeclinedError(`libjpeg-turbo: JPEG with ${components} colour components`);
    if (header.width === 0 || header.height === 0) throw new DecoderDeclinedError('libjpeg-turbo: JPEG size not found in the header');
    const byteLength = header.width * header.height * components;
    // Into the caller's scratch, or a fresh uninitialised buffer (every byte is written): both
    // measured faster than letting the binding allocate a zeroed one.
    // Always a Buffer: the binding's JS wrapper returns `out.slice(0, size)`, which for a plain
    // Uint8Array COPIES every pixel (a third of the decode time at 256²) and aliases for a Buffer.
    const out = into !== undefined && into.length >= byteLength
      ? Buffer.from(into.buffer, into.byteOffset, byteLength)
      : Buffer.allocUnsafeSlow(byteLength);
    const format = components === 1 ? turbo.FORMAT_GRAY : turbo.FORMAT_RGB;
    const result = guardedNativeCall(() => turbo.decompressSync(bytes, out, { format }));
    if (result.width !== header.width || result.height !== header.height) {
      throw new UnsupportedPixelFormatError(`JPEG header said ${header.width}x${header.height}, libjpeg-turbo decoded ${result.width}x${result.height}`);
    }
    return imageFromRawSamples(out, header.width, header.height, 1);
  },
});
