import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError } from '../../src/errors.ts';
import { decodeTensor, encodeTensor } from '../../src/format/tensor.ts';
import { TensorDType } from '../../src/format/layout.ts';
import { throwsFormat } from './helpers.ts';

const f32 = new Float32Array([0, 0.5, 1, 1.5, 2, 2.5]);
const t = { dtype: TensorDType.float32, shape: [2, 3], data: new Uint8Array(f32.buffer) };

describe('tensor', () => {
  test('layout: rank, 3 reserved, u32 dims, little-endian data [REC-8]', () => {
    const b = encodeTensor(t);
    assert.equal(b.length, 4 + 8 + 24);
    assert.deepEqual([...b.subarray(0, 12)], [2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
    assert.equal(new DataView(b.buffer).getFloat32(12 + 4, true), 0.5);
  });

  test('round trip; data is a view', () => {
    const b = encodeTensor(t);
    const d = decodeTensor(b, 0, TensorDType.float32);
    assert.deepEqual(d, t);
    assert.equal(d.data.buffer, b.buffer);
  });

  test('rank 0 and 9 → FormatError [REC-9] [LIM-4]', () => {
    const b = encodeTensor(t);
    b[0] = 0;
    throwsFormat(() => decodeTensor(b, 50, TensorDType.float32, 4), FormatError, { section: 'tensor', byteOffset: 50, recordIndex: 4, actual: 0 });
    b[0] = 9;
    throwsFormat(() => decodeTensor(b, 50, TensorDType.float32), FormatError, { actual: 9 });
    assert.throws(() => encodeTensor({ ...t, shape: [1, 1, 1, 1, 1, 1, 1, 1, 1] }), TypeError);
  });

  test('shape × element size must equal the data length [REC-9]', () => {
    const b = encodeTensor(t);
    throwsFormat(() => decodeTensor(b, 0, TensorDType.float64), FormatError, { actual: 24, expected: '48 bytes for [2, 3]' });
    throwsFormat(() => decodeTensor(b.subarray(0, b.length - 1), 0, TensorDType.float32), FormatError, { actual: 23 });
    throwsFormat(() => decodeTensor(b.subarray(0, 6), 0, TensorDType.float32), FormatError, { message: /truncated tensor dims/ });
    throwsFormat(() => decodeTensor(b.subarray(0, 3), 0, TensorDType.float32), FormatError, { message: /truncated tensor head/ });
    const huge = encodeTensor({ dtype: TensorDType.uint8, shape: [0, 1], data: new Uint8Array(0) });
    new DataView(huge.buffer).setUint32(4, 0xffffffff, true);
    new DataView(huge.buffer).setUint32(8, 0xffffffff, true);
    throwsFormat(() => decodeTensor(huge, 0, TensorDType.uint8), FormatError, { actual: 0 });
    assert.throws(() => encodeTensor({ ...t, data: t.data.subarray(1) }), TypeError);
  });

  test('zero-sized dimensions are allowed', () => {
    const z = { dtype: TensorDType.int16, shape: [0, 4], data: new Uint8Array(0) };
    assert.deepEqual(decodeTensor(encodeTensor(z), 0, TensorDType.int16), z);
  });

  test('unknown dtype → FormatError', () => {
    throwsFormat(() => decodeTensor(encodeTensor(t), 0, 0 as never), FormatError, { section: 'tensor' });
    assert.throws(() => encodeTensor({ ...t, dtype: 9 as never }), TypeError);
  });
});
