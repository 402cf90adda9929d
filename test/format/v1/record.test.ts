// Record codec of format 1.0 (REFERENCE §1.1.3), the fixed empty-last-field quirk (§1.10 #2),
// and the recovery plausibility test.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError, LimitExceededError } from '../../../src/errors.ts';
import { RECORD_HEAD } from '../../../src/format/v1/layout.ts';
import { decodeV1Record, decodeV1RecordHead, encodeV1Record, plausibleV1RecordLength, v1RecordByteLength } from '../../../src/format/v1/record.ts';

const hex = (b: Uint8Array, from: number, to: number): string => Buffer.from(b.subarray(from, to)).toString('hex');
const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v);

describe('1.0 record', () => {
  // [V1-2] 64-byte head then the fields; aligned records padded to 4096, compact ones exact.
  test('encodes the §1.1.9 record 0 (id 0, label 1.5, width 1, field0.size 890), padded to 4096 [V1-2]', () => {
    const jpeg = new Uint8Array(890);
    jpeg.set([0xff, 0xd8, 0xff, 0xe0]);
    const r = encodeV1Record({ id: 0, label: 1.5, label2: 0, fields: [jpeg] }, { align: 4096 });
    assert.equal(r.length, 4096);
    assert.equal(hex(r, 0, 24), '000000000000c03f01000000000000007a03000000000000');
    assert.equal(hex(r, 64, 68), 'ffd8ffe0');
    assert.equal(r.subarray(64 + 890).every((b) => b === 0), true);
    assert.equal(encodeV1Record({ id: 0, label: 1.5, label2: 0, fields: [jpeg] }).length, 954);
  });

  test('round trip with label as float32, negative label2, six fields, empty ones anywhere', () => {
    const fields = [bytes(1, 2), bytes(), bytes(3), bytes(), bytes(4, 5, 6), bytes()];
    const r = encodeV1Record({ id: 0xffffffff, label: 0.1, label2: -32768, fields });
    assert.equal(r.length, v1RecordByteLength([2, 0, 1, 0, 3, 0]));
    const d = decodeV1Record(r);
    assert.deepEqual(
      { id: d.id, label: d.label, label2: d.label2, width: d.width, fields: d.fields.map((f) => [...f]) },
      { id: 0xffffffff, label: Math.fround(0.1), label2: -32768, width: 6, fields: fields.map((f) => [...f]) },
    );
    assert.deepEqual(d.fieldTypes, [0, 0, 0, 0, 0, 0]);
  });

  // [V1-3] the original reader's empty-last-field quirk is fixed.
  test('a compact record whose last field is empty is VALID (the original reported corruption) [V1-3]', () => {
    const r = encodeV1Record({ id: 1, label: 0, label2: 0, fields: [bytes(9), bytes()] });
    assert.equal(r.length, 65);
    const d = decodeV1Record(r);
    assert.deepEqual(d.fields.map((f) => f.length), [1, 0]);
  });

  // [V1-3] fields must fit inside sizes[i]; [V1-2] at most 6 fields.
  test('decode errors: truncated head, width > 6, field overrun (absolute offsets, record index) [V1-3]', () => {
    const r = encodeV1Record({ id: 1, label: 0, label2: 0, fields: [bytes(1, 2, 3), bytes(4)] });
    assert.throws(() => decodeV1RecordHead(r.subarray(0, 63), { byteOffset: 100, recordIndex: 3 }), (e: unknown) =>
      e instanceof FormatError && e.byteOffset === 100 && e.recordIndex === 3 && e.actual === '63 bytes');
    const wide = r.slice();
    wide[RECORD_HEAD.width.offset] = 7;
    assert.throws(() => decodeV1Record(wide, { byteOffset: 100 }), (e: unknown) => e instanceof FormatError && e.byteOffset === 108 && e.actual === 7);
    assert.throws(() => decodeV1Record(r.subarray(0, r.length - 1), { byteOffset: 100, recordIndex: 2 }), (e: unknown) =>
      e instanceof FormatError && e.byteOffset === 100 + 16 + 8 && e.recordIndex === 2 && e.section === 'v1-record');
    const huge = r.slice();
    new DataView(huge.buffer).setUint32(16, 0xffffffff, true);
    assert.throws(() => decodeV1Record(huge), (e: unknown) => e instanceof FormatError && e.byteOffset === 16);
    // The head alone, checked against the on-disk size.
    assert.equal(decodeV1RecordHead(r.subarray(0, 64), { recordByteLength: r.length }).byteLength, 68);
    assert.throws(() => decodeV1RecordHead(r.subarray(0, 64), { recordByteLength: 67 }), FormatError);
  });

  test('encode validation: id u32, label float32 range, label2 i16, Uint8Array fields, <= 6 fields, < 512 MiB', () => {
    const ok = { id: 0, label: 0, label2: 0, fields: [] as Uint8Array[] };
    assert.throws(() => encodeV1Record({ ...ok, id: -1 }), RangeError);
    assert.throws(() => encodeV1Record({ ...ok, id: 0.5 }), TypeError);
    assert.throws(() => encodeV1Record({ ...ok, label: 'x' as unknown as number }), TypeError);
    assert.throws(() => encodeV1Record({ ...ok, label: 4e38 }), RangeError);
    assert.throws(() => encodeV1Record({ ...ok, label2: 32768 }), RangeError);
    assert.throws(() => encodeV1Record({ ...ok, fields: [[1] as unknown as Uint8Array] }), TypeError);
    assert.throws(() => encodeV1Record({ ...ok, fields: new Array(7).fill(bytes()) }, { byteOffset: 8192, recordIndex: 4 }), (e: unknown) =>
      e instanceof LimitExceededError && e.byteOffset === 8192 && e.recordIndex === 4);
    // A length-only stand-in: the limit is checked before anything is allocated.
    class Huge extends Uint8Array {
      override get length(): number {
        return 200 * 1024 * 1024;
      }
    }
    assert.throws(() => encodeV1Record({ ...ok, fields: [new Huge(1), new Huge(1), new Huge(1)] }), LimitExceededError);
    assert.equal(encodeV1Record({ ...ok, label: Infinity }).length, 64);
  });

  test('plausibleV1RecordLength: accepts real heads, rejects reserved bytes, unused slots, zero heads, overruns', () => {
    const r = encodeV1Record({ id: 5, label: 1, label2: 0, fields: [bytes(1, 2, 3)] });
    assert.equal(plausibleV1RecordLength(r, r.length), 67);
    assert.equal(plausibleV1RecordLength(r, 66), -1, 'does not fit before EOF');
    assert.equal(plausibleV1RecordLength(r.subarray(0, 63), 100), -1);
    for (const at of [9, 12, 21, 22]) {
      const bad = r.slice();
      bad[at] = 1;
      assert.equal(plausibleV1RecordLength(bad, 100), -1, `reserved byte ${at}`);
    }
    const unused = r.slice();
    unused[16 + 8] = 1; // slot 1 size while width is 1
    assert.equal(plausibleV1RecordLength(unused, 100), -1);
    const wide = r.slice();
    wide[8] = 7;
    assert.equal(plausibleV1RecordLength(wide, 100), -1);
    const typed = r.slice();
    typed[20] = 4;
    assert.equal(plausibleV1RecordLength(typed, 100), -1);
    typed[20] = 3;
    assert.equal(plausibleV1RecordLength(typed, 100), 67);
    assert.equal(plausibleV1RecordLength(new Uint8Array(64), 4096), -1, 'a zero-filled tail is not a record');
    assert.equal(plausibleV1RecordLength(encodeV1Record({ id: 1, label: 0, label2: 0, fields: [] }), 64), 64);
  });
});
