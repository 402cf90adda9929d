// Raw pixel containers → Image: the format 2.0 tensor field (src/format/tensor.ts decodeTensor)
// and the PicPac 1.0 raw matrix (OpenCV type code, rows, cols, row-major bytes; REFERENCE §1.1.7).
// uint8/uint16/float32 keep their type; other element types become float32 (the kernels work on
// those three). The data of a tensor is little-endian bytes, possibly unaligned: copied when needed.
import { TensorDType } from '../../format/layout.ts';
import type { Tensor } from '../../format/types.ts';
import { UnsupportedPixelFormatError } from './image.ts';
import type { ChannelCount, Image, PixelArray } from './image.ts';

/** Element types by OpenCV depth code (CV_8U=0 … CV_64F=6) and by TensorDType. */
type ElementKind = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64';
const CV_DEPTH_KIND: readonly ElementKind[] = ['u8', 'i8', 'u16', 'i16', 'i32', 'f32', 'f64'];
const TENSOR_KIND: Record<number, ElementKind> = {
  [TensorDType.uint8]: 'u8', [TensorDType.int8]: 'i8', [TensorDType.uint16]: 'u16', [TensorDType.int16]: 'i16',
  [TensorDType.uint32]: 'u32', [TensorDType.int32]: 'i32', [TensorDType.float32]: 'f32', [TensorDType.float64]: 'f64',
};
const KIND_BYTES: Record<ElementKind, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, f64: 8 };

function samplesFromBytes(bytes: Uint8Array, kind: ElementKind, count: number): PixelArray {
  const byteLength = count * KIND_BYTES[kind];
  if (bytes.length < byteLength) throw new UnsupportedPixelFormatError(`pixel data is ${bytes.length} bytes, expected ${byteLength}`);
  if (kind === 'u8') return bytes.subarray(0, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, byteLength);
  if (kind === 'u16') {
    const out = new Uint16Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true);
    return out;
  }
  const out = new Float32Array(count);
  switch (kind) {
    case 'i8': for (let i = 0; i < count; i++) out[i] = view.getInt8(i); break;
    case 'i16': for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true); break;
    case 'u32': for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true); break;
    case 'i32': for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true); break;
    case 'f32': for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true); break;
    case 'f64': for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true); break;
  }
  return out;
}

function checkChannels(channels: number, what: string): ChannelCount {
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
    throw new UnsupportedPixelFormatError(`${what} has ${channels} channels; images have 1 to 4`);
  }
  return channels;
}

/** A tensor of shape [H, W] or [H, W, C] (C = 1..4) as an Image. */
export function imageFromTensor(tensor: Tensor): Image {
  const kind = TENSOR_KIND[tensor.dtype];
  if (kind === undefined) throw new UnsupportedPixelFormatError(`tensor dtype ${tensor.dtype} is not a pixel type`);
  const shape = tensor.shape;
  if (shape.length !== 2 && shape.length !== 3) {
    throw new UnsupportedPixelFormatError(`tensor of rank ${shape.length} is not an image (expected [H, W] or [H, W, C])`);
  }
  const [height, width] = shape;
  const channels = checkChannels(shape.length === 3 ? shape[2] : 1, 'tensor');
  return { width, height, channels, data: samplesFromBytes(tensor.data, kind, width * height * channels) };
}

export interface CvMatrix {
  /** OpenCV type code: depth (type & 7) + 8 × (channels − 1), e.g. 0 CV_8UC1, 16 CV_8UC3, 5 CV_32FC1. */
  cvType: number;
  rows: number;
  cols: number;
  /** rows × cols × elemSize bytes, row-major, host (little-endian) byte order. */
  data: Uint8Array;
}

/**
 * A PicPac 1.0 raw matrix (already split into header fields by src/format/v1/raw-matrix.ts) as
 * an Image. Its channel order is whatever the writer had (OpenCV BGR for colour): it is NOT
 * swapped here; the caller swaps (swapRedBlueInPlace) when it knows the matrix is BGR colour.
 */
export function imageFromCvMatrix(matrix: CvMatrix): Image {
  const depth = matrix.cvType & 7;
  const channels = checkChannels((matrix.cvType >> 3) + 1, 'raw matrix');
  const kind = CV_DEPTH_KIND[depth];
  if (kind === undefined) throw new UnsupportedPixelFormatError(`raw matrix OpenCV depth ${depth} is not supported`);
  return {
    width: matrix.cols, height: matrix.rows, channels,
    data: samplesFromBytes(matrix.data, kind, matrix.rows * matrix.cols * channels),
  };
}
