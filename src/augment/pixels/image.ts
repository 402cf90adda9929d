// The in-memory image every pixel kernel works on: HWC interleaved typed array.
//
// Channel order decision: images are stored **RGB(A)**, the order every decoder here returns
// (napi-rs/image, sharp, browsers, tfjs), so decoding costs no swap pass. The original PicPac held
// OpenCV BGR; wherever its parameters name channels by BGR position (pert_color1..3 in the "BGR"
// colour space, mean_color1..3) the kernels map them through `BGR_TO_RGB_INDEX`, so the flat
// parameters keep the original meaning. A batcher that must emit v1's default BGR order swaps at
// the edge (`swapRedBlueInPlace`). Label canvases are data, not colours: their channel k is the
// original's channel k (a numeric `label` goes to channel 0, as in v1).
import { LimitExceededError, PicpacError, invalidParameterError } from '../../errors.ts';

export type PixelArray = Uint8Array | Uint16Array | Float32Array;
export type SampleType = 'uint8' | 'uint16' | 'float32';
export type ChannelCount = 1 | 2 | 3 | 4;

export interface Image {
  width: number;
  height: number;
  /** Decoders produce 1 (grey), 3 (RGB) or 4 (RGBA); label canvases may have 2. */
  channels: ChannelCount;
  /** Row-major HWC: pixel (x, y) channel c at ((y * width + x) * channels + c). */
  data: PixelArray;
}

/** Index of the original's BGR channel k (0 = B, 1 = G, 2 = R, 3 = A) in our RGB(A) layout. */
export const BGR_TO_RGB_INDEX = [2, 1, 0, 3] as const;

/** sharp's default `limitInputPixels` (0x3FFF²): safe default for `maxImagePixels` (STYLE §21). */
export const DEFAULT_MAX_IMAGE_PIXELS = 0x3fff * 0x3fff;

/** Pixel data that cannot be converted as asked (v1 aborted with "channel format not supported"). */
export class UnsupportedPixelFormatError extends PicpacError {
  constructor(message: string) {
    super('FORMAT', message);
  }
}

export function sampleTypeOf(data: PixelArray): SampleType {
  return data instanceof Uint8Array ? 'uint8' : data instanceof Uint16Array ? 'uint16' : 'float32';
}

export function allocPixels(type: SampleType, length: number): PixelArray {
  return type === 'uint8' ? new Uint8Array(length) : type === 'uint16' ? new Uint16Array(length) : new Float32Array(length);
}

/** True when `storage` can hold `length` samples of the type of `like` (caller-owned output storage). */
export function holdsPixels(storage: PixelArray | undefined, like: PixelArray, length: number): storage is PixelArray {
  return storage !== undefined && storage.length >= length && storage.constructor === like.constructor;
}

/**
 * Storage for `length` samples of `type` that the caller then writes every one of: the start of
 * `into` when it can hold them (not cleared; the result aliases it), else a fresh array.
 */
export function pixelStorage(type: SampleType, length: number, into?: PixelArray): PixelArray {
  if (into === undefined || into.length < length || sampleTypeOf(into) !== type) return allocPixels(type, length);
  return into.subarray(0, length);
}

/**
 * `length` zeroed samples of `type`: the start of `into` when it can hold them (the result then
 * aliases it), else a fresh array — the stream's per-sample outputs reuse storage this way.
 */
export function zeroedPixels(type: SampleType, length: number, into?: PixelArray): PixelArray {
  const storage = pixelStorage(type, length, into);
  if (storage.buffer === into?.buffer) storage.fill(0); // a fresh array is zero already
  return storage;
}

/** A zero-filled image (in `into` when it can hold it: see zeroedPixels). */
export function createImage(width: number, height: number, channels: ChannelCount, type: SampleType = 'uint8', into?: PixelArray): Image {
  if (!Number.isInteger(width) || width < 0) throw invalidParameterError('width', 'a non-negative integer', width);
  if (!Number.isInteger(height) || height < 0) throw invalidParameterError('height', 'a non-negative integer', height);
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
    throw invalidParameterError('channels', 'one of 1, 2, 3, 4', channels);
  }
  return { width, height, channels, data: zeroedPixels(type, width * height * channels, into) };
}

export function cloneImage(image: Image): Image {
  return { width: image.width, height: image.height, channels: image.channels, data: image.data.slice() };
}

/** Throw LimitExceededError when width × height is beyond `maxImagePixels` (checked before decoding). */
export function checkPixelLimit(width: number, height: number, maxImagePixels: number, recordIndex?: number): void {
  const pixelCount = width * height;
  if (pixelCount > maxImagePixels) {
    throw new LimitExceededError(`image of ${width}x${height} pixels exceeds maxImagePixels`, {
      section: 'image', byteOffset: 0, recordIndex, expected: `<= ${maxImagePixels} pixels`, actual: pixelCount,
    });
  }
}

/** Swap channels 0 and 2 (RGB ↔ BGR) in place; for batchers emitting the original's BGR order. */
export function swapRedBlueInPlace(image: Image): Image {
  const { data, channels } = image;
  if (channels < 3) return image;
  for (let i = 0; i < data.length; i += channels) {
    const t = data[i];
    data[i] = data[i + 2];
    data[i + 2] = t;
  }
  return image;
}

/** 16-bit or float samples → 8-bit the way OpenCV's IMREAD_COLOR/GRAYSCALE do for 16-bit (>> 8). */
export function toUint8(image: Image): Image {
  const src = image.data;
  if (src instanceof Uint8Array) return image;
  const out = new Uint8Array(src.length);
  if (src instanceof Uint16Array) {
    for (let i = 0; i < src.length; i++) out[i] = src[i] >> 8;
  } else {
    for (let i = 0; i < src.length; i++) {
      const v = Math.round(src[i]);
      out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width: image.width, height: image.height, channels: image.channels, data: out };
}

export function toFloat32(image: Image): Image {
  if (image.data instanceof Float32Array) return image;
  return { width: image.width, height: image.height, channels: image.channels, data: Float32Array.from(image.data) };
}

/**
 * Convert the channel count with OpenCV's rules (v1 `channels`): 3→1 and 4→1 by luma
 * (0.299 R + 0.587 G + 0.114 B, OpenCV's fixed-point rounding for 8-bit), 4→3 drops alpha,
 * 1→3 replicates, 2 (grey+alpha) → 4 like OpenCV's PNG reader. Other pairs throw
 * UnsupportedPixelFormatError. `target` ≤ 0 keeps the image.
 */
export function convertChannels(image: Image, target: number): Image {
  const from = image.channels;
  if (target <= 0 || target === from) return image;
  const pixelCount = image.width * image.height;
  const src = image.data;
  const out = allocPixels(sampleTypeOf(src), pixelCount * target);
  const integer = !(src instanceof Float32Array);
  if ((from === 3 || from === 4) && target === 1) {
    if (src instanceof Uint8Array) {
      for (let p = 0, i = 0; p < pixelCount; p++, i += from) {
        out[p] = (src[i] * 4899 + src[i + 1] * 9617 + src[i + 2] * 1868 + 8192) >> 14;
      }
    } else {
      for (let p = 0, i = 0; p < pixelCount; p++, i += from) {
        const y = src[i] * 0.299 + src[i + 1] * 0.587 + src[i + 2] * 0.114;
        out[p] = integer ? Math.round(y) : y;
      }
    }
  } else if (from === 4 && target === 3) {
    for (let p = 0, i = 0, o = 0; p < pixelCount; p++, i += 4, o += 3) {
      out[o] = src[i];
      out[o + 1] = src[i + 1];
      out[o + 2] = src[i + 2];
    }
  } else if (from === 1 && (target === 3 || target === 4)) {
    const opaque = src instanceof Uint8Array ? 255 : src instanceof Uint16Array ? 65535 : 1;
    for (let p = 0, o = 0; p < pixelCount; p++, o += target) {
      const v = src[p];
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
      if (target === 4) out[o + 3] = opaque;
    }
  } else if (from === 2 && target === 4) {
    for (let p = 0, i = 0, o = 0; p < pixelCount; p++, i += 2, o += 4) {
      const v = src[i];
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
      out[o + 3] = src[i + 1];
    }
  } else if (from === 2 && (target === 1 || target === 3)) {
    return convertChannels(convertChannels(image, 4), target);
  } else {
    throw new UnsupportedPixelFormatError(`channel conversion not supported: from ${from} to ${target} channels`);
  }
  return { width: image.width, height: image.height, channels: target as ChannelCount, data: out };
}
