// The 1.0 raw matrix field encoding (REFERENCE §1.1.7): 16-byte header of four i32 (OpenCV type,
// rows, cols, elemSize) then rows*cols*elemSize bytes row-major. Valid only when the length
// matches exactly and elemSize matches the type.
import { FormatError, invalidParameterError, outOfRangeError } from '../../errors.ts';
import { viewOf } from '../bytes.ts';
import { TensorDType, type TensorDTypeCode } from '../layout.ts';
import { CV_DEPTH_BYTES, CV_MAX_CHANNELS, RAW_MATRIX, type CvDepthCode } from './layout.ts';

export const RAW_MATRIX_SECTION = 'v1-raw-matrix';

export interface RawMatrix {
  /** OpenCV type code: depth | (channels - 1) << 3. */
  cvType: number;
  rows: number;
  cols: number;
  /** Derived from cvType. */
  depth: CvDepthCode;
  channels: number;
  /** Bytes per pixel (all channels). */
  elemSize: number;
  /** rows*cols*elemSize bytes, row-major (a view when decoded). */
  data: Uint8Array;
}

const DEPTH_DTYPE: Record<CvDepthCode, TensorDTypeCode> = {
  0: TensorDType.uint8,
  1: TensorDType.int8,
  2: TensorDType.uint16,
  3: TensorDType.int16,
  4: TensorDType.int32,
  5: TensorDType.float32,
  6: TensorDType.float64,
};

export function cvType(depth: CvDepthCode, channels: number): number {
  return depth | ((channels - 1) << 3);
}

/** The format 2.0 tensor dtype of an OpenCV depth. */
export function rawMatrixDType(depth: CvDepthCode): TensorDTypeCode {
  return DEPTH_DTYPE[depth];
}

/** Bytes per pixel of a supported OpenCV type, or -1 (depth 7 and beyond, > 512 channels). */
export function cvElemSize(type: number): number {
  if (!Number.isInteger(type) || type < 0) return -1;
  const depth = type & 7;
  const channels = (type >> 3) + 1;
  if (depth > 6 || channels > CV_MAX_CHANNELS) return -1;
  return CV_DEPTH_BYTES[depth as CvDepthCode] * channels;
}

export function encodeRawMatrix(matrix: { cvType: number; rows: number; cols: number; data: Uint8Array }): Uint8Array {
  const { rows, cols, data } = matrix;
  const elemSize = cvElemSize(matrix.cvType);
  if (elemSize < 0) throw outOfRangeError('cvType', 'an OpenCV type with depth 0..6 and 1..512 channels', matrix.cvType);
  for (const [name, value] of [['rows', rows], ['cols', cols]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw outOfRangeError(name, 'an integer 0..2147483647', value);
  }
  if (!(data instanceof Uint8Array)) throw invalidParameterError('data', 'a Uint8Array', data);
  if (data.length !== rows * cols * elemSize) {
    throw outOfRangeError('data', `exactly rows*cols*elemSize = ${rows * cols * elemSize} bytes`, data);
  }
  const bytes = new Uint8Array(RAW_MATRIX.headByteLength + data.length);
  const view = viewOf(bytes);
  view.setInt32(RAW_MATRIX.cvType.offset, matrix.cvType, true);
  view.setInt32(RAW_MATRIX.rows.offset, rows, true);
  view.setInt32(RAW_MATRIX.cols.offset, cols, true);
  view.setInt32(RAW_MATRIX.elemSize.offset, elemSize, true);
  bytes.set(data, RAW_MATRIX.headByteLength);
  return bytes;
}

/** Why `bytes` is not a raw matrix, or undefined when it is one. Never throws. */
export function rawMatrixProblem(bytes: Uint8Array): { problem: string; offset: number; expected: string | number; actual: string | number } | undefined {
  if (bytes.length < RAW_MATRIX.headByteLength) {
    return { problem: 'truncated raw matrix header', offset: 0, expected: `${RAW_MATRIX.headByteLength} bytes`, actual: `${bytes.length} bytes` };
  }
  const view = viewOf(bytes);
  const type = view.getInt32(RAW_MATRIX.cvType.offset, true);
  const rows = view.getInt32(RAW_MATRIX.rows.offset, true);
  const cols = view.getInt32(RAW_MATRIX.cols.offset, true);
  const elemSize = view.getInt32(RAW_MATRIX.elemSize.offset, true);
  const expectedElem = cvElemSize(type);
  if (expectedElem < 0) return { problem: 'unsupported OpenCV type', offset: RAW_MATRIX.cvType.offset, expected: 'depth 0..6, 1..512 channels', actual: type };
  if (rows < 0) return { problem: 'negative rows', offset: RAW_MATRIX.rows.offset, expected: '>= 0', actual: rows };
  if (cols < 0) return { problem: 'negative cols', offset: RAW_MATRIX.cols.offset, expected: '>= 0', actual: cols };
  if (elemSize !== expectedElem) return { problem: 'elemSize does not match the type', offset: RAW_MATRIX.elemSize.offset, expected: expectedElem, actual: elemSize };
  const dataLength = rows * cols * elemSize; // < 2^93 but compared exactly only when small
  if (dataLength !== bytes.length - RAW_MATRIX.headByteLength) {
    return { problem: 'raw matrix length mismatch', offset: 0, expected: `${RAW_MATRIX.headByteLength + dataLength} bytes`, actual: `${bytes.length} bytes` };
  }
  return undefined;
}

/** Decode with validation; `byteOffset` (absolute, of the field) is used in errors only. */
export function decodeRawMatrix(bytes: Uint8Array, options?: { byteOffset?: number; recordIndex?: number }): RawMatrix {
  const problem = rawMatrixProblem(bytes);
  if (problem) {
    throw new FormatError(problem.problem, {
      section: RAW_MATRIX_SECTION,
      byteOffset: (options?.byteOffset ?? 0) + problem.offset,
      recordIndex: options?.recordIndex,
      expected: problem.expected,
      actual: problem.actual,
    });
  }
  const view = viewOf(bytes);
  const type = view.getInt32(RAW_MATRIX.cvType.offset, true);
  return {
    cvType: type,
    rows: view.getInt32(RAW_MATRIX.rows.offset, true),
    cols: view.getInt32(RAW_MATRIX.cols.offset, true),
    depth: (type & 7) as CvDepthCode,
    channels: (type >> 3) + 1,
    elemSize: cvElemSize(type),
    data: bytes.subarray(RAW_MATRIX.headByteLength),
  };
}
