// Tensor field bytes: u8 rank, 3 reserved bytes, u32 dims × rank, then row-major little-endian
// elements [REC-8]. The element type is the field descriptor's codec (TensorDType).
import { FormatError, invalidParameterError } from '../errors.ts';
import { isU32, viewOf } from './bytes.ts';
import { LIMITS, MAX_TENSOR_RANK, TENSOR, TENSOR_ELEMENT_BYTES } from './layout.ts';
import type { TensorDTypeCode } from './layout.ts';
import type { Tensor } from './types.ts';

const SECTION = 'tensor';

/** True when `dtype` is one of the TensorDType codes. */
export function isTensorDType(dtype: unknown): dtype is TensorDTypeCode {
  return typeof dtype === 'number' && Object.hasOwn(TENSOR_ELEMENT_BYTES, dtype);
}

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const d of shape) count *= d;
  return count;
}

/** Field bytes for a tensor; `t.data` must hold exactly product(shape) elements of `t.dtype`. */
export function encodeTensor(t: Tensor): Uint8Array {
  if (typeof t !== 'object' || t === null) throw invalidParameterError('tensor', 'an object', t);
  if (!isTensorDType(t.dtype)) throw invalidParameterError('tensor.dtype', 'a TensorDType code 1..8', t.dtype);
  const shape = t.shape;
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > MAX_TENSOR_RANK || !shape.every(isU32)) {
    throw invalidParameterError('tensor.shape', `1 to ${MAX_TENSOR_RANK} u32 dimensions`, shape);
  }
  if (!(t.data instanceof Uint8Array)) throw invalidParameterError('tensor.data', 'a Uint8Array', t.data);
  const expected = elementCount(shape) * TENSOR_ELEMENT_BYTES[t.dtype];
  if (t.data.length !== expected) {
    throw invalidParameterError('tensor.data', `${expected} bytes (shape × element size)`, t.data);
  }
  const headByteLength = TENSOR.dims.offset + 4 * shape.length;
  if (headByteLength + t.data.length > LIMITS.maxFramePayloadBytes) {
    throw invalidParameterError('tensor.data', 'a tensor that fits a frame', t.data);
  }
  const bytes = new Uint8Array(headByteLength + t.data.length);
  const view = viewOf(bytes);
  view.setUint8(TENSOR.rank.offset, shape.length);
  shape.forEach((d, i) => view.setUint32(TENSOR.dims.offset + 4 * i, d, true));
  bytes.set(t.data, headByteLength);
  return bytes;
}

/**
 * Decode tensor field bytes (`byteOffset` = their absolute offset). `data` is a view, not a copy.
 * Rank must be 1..8 and product(dims)·elementBytes must equal the data length. [REC-8] [REC-9]
 */
export function decodeTensor(bytes: Uint8Array, byteOffset: number, dtype: TensorDTypeCode, recordIndex?: number): Tensor {
  if (!isTensorDType(dtype)) {
    throw new FormatError('unknown tensor dtype', { section: SECTION, byteOffset, recordIndex, expected: '1..8', actual: String(dtype) });
  }
  if (bytes.length < TENSOR.dims.offset) {
    throw new FormatError('truncated tensor head', { section: SECTION, byteOffset, recordIndex, expected: `>= ${TENSOR.dims.offset} bytes`, actual: bytes.length });
  }
  const view = viewOf(bytes);
  const rank = view.getUint8(TENSOR.rank.offset);
  if (rank < 1 || rank > MAX_TENSOR_RANK) {
    throw new FormatError('tensor rank out of range', { section: SECTION, byteOffset, recordIndex, expected: `1..${MAX_TENSOR_RANK}`, actual: rank });
  }
  const headByteLength = TENSOR.dims.offset + 4 * rank;
  if (bytes.length < headByteLength) {
    throw new FormatError('truncated tensor dims', { section: SECTION, byteOffset, recordIndex, expected: `>= ${headByteLength} bytes`, actual: bytes.length });
  }
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(TENSOR.dims.offset + 4 * i, true));
  // product of up to 8 u32 may exceed 2^53 — compare as a float, it is only equal when exact enough.
  const expected = elementCount(shape) * TENSOR_ELEMENT_BYTES[dtype];
  const actual = bytes.length - headByteLength;
  if (expected !== actual) {
    throw new FormatError('tensor shape does not match its data length', {
      section: SECTION,
      byteOffset,
      recordIndex,
      expected: `${expected} bytes for [${shape.join(', ')}]`,
      actual,
    });
  }
  return { dtype, shape, data: bytes.subarray(headByteLength) };
}
