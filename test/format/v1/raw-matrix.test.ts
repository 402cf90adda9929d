// The 1.0 raw matrix field encoding (REFERENCE §1.1.7).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError } from '../../../src/errors.ts';
import { TensorDType } from '../../../src/format/layout.ts';
import { CvDepth } from '../../../src/format/v1/layout.ts';
import { cvElemSize, cvType, decodeRawMatrix, encodeRawMatrix, rawMatrixDType, rawMatrixProblem } from '../../../src/format/v1/raw-matrix.ts';

describe('raw matrix', () => {
  test('CV_8UC3 2x3: 16-byte header of four i32 then 18 bytes', () => {
    const data = Uint8Array.from({ length: 18 }, (_, i) => i);
    const bytes = encodeRawMatrix({ cvType: 16, rows: 2, cols: 3, data });
    assert.equal(Buffer.from(bytes.subarray(0, 16)).toString('hex'), '10000000' + '02000000' + '03000000' + '03000000');
    const m = decodeRawMatrix(bytes);
    assert.deepEqual([m.cvType, m.rows, m.cols, m.depth, m.channels, m.elemSize], [16, 2, 3, 0, 3, 3]);
    assert.deepEqual([...m.data], [...data]);
  });

  test('type codes and element sizes (CV_8UC1 0, CV_8UC3 16, CV_32FC1 5, CV_64FC2 14)', () => {
    assert.equal(cvType(CvDepth.u8, 3), 16);
    assert.equal(cvType(CvDepth.f32, 1), 5);
    assert.deepEqual([0, 16, 5, 14, 2].map(cvElemSize), [1, 3, 4, 16, 2]);
    assert.equal(cvElemSize(7), -1, 'CV_16F / USRTYPE1 is not produced by the original');
    assert.equal(cvElemSize(512 << 3), -1, 'more than 512 channels');
    assert.equal(cvElemSize(-1), -1);
    assert.equal(rawMatrixDType(CvDepth.f32), TensorDType.float32);
    assert.equal(rawMatrixDType(CvDepth.s32), TensorDType.int32);
  });

  test('decode validation: every inconsistency is a FormatError at the offending header field', () => {
    const good = encodeRawMatrix({ cvType: 5, rows: 2, cols: 2, data: new Uint8Array(16) });
    const cases: Array<[string, (v: DataView) => void, number]> = [
      ['unsupported type', (v) => v.setInt32(0, 7, true), 0],
      ['negative rows', (v) => v.setInt32(4, -1, true), 4],
      ['negative cols', (v) => v.setInt32(8, -2, true), 8],
      ['elemSize mismatch', (v) => v.setInt32(12, 3, true), 12],
      ['length mismatch', (v) => v.setInt32(4, 3, true), 0],
    ];
    for (const [name, mutate, offset] of cases) {
      const bad = good.slice();
      mutate(new DataView(bad.buffer));
      assert.throws(() => decodeRawMatrix(bad, { byteOffset: 1000, recordIndex: 2 }), (e: unknown) =>
        e instanceof FormatError && e.byteOffset === 1000 + offset && e.recordIndex === 2 && e.section === 'v1-raw-matrix', name);
    }
    assert.throws(() => decodeRawMatrix(good.subarray(0, 15)), FormatError);
    assert.throws(() => decodeRawMatrix(good.subarray(0, 31)), FormatError);
    assert.equal(rawMatrixProblem(good), undefined);
    // Huge dimensions never allocate: the length comparison fails first.
    const huge = good.slice();
    new DataView(huge.buffer).setInt32(4, 0x7fffffff, true);
    new DataView(huge.buffer).setInt32(8, 0x7fffffff, true);
    assert.throws(() => decodeRawMatrix(huge), FormatError);
  });

  test('encode validation', () => {
    assert.throws(() => encodeRawMatrix({ cvType: 7, rows: 1, cols: 1, data: new Uint8Array(2) }), RangeError);
    assert.throws(() => encodeRawMatrix({ cvType: 0, rows: -1, cols: 1, data: new Uint8Array(0) }), RangeError);
    assert.throws(() => encodeRawMatrix({ cvType: 0, rows: 2, cols: 2, data: new Uint8Array(3) }), RangeError);
    assert.throws(() => encodeRawMatrix({ cvType: 0, rows: 1, cols: 1, data: [1] as unknown as Uint8Array }), TypeError);
    assert.equal(encodeRawMatrix({ cvType: 0, rows: 0, cols: 5, data: new Uint8Array(0) }).length, 16);
  });
});
