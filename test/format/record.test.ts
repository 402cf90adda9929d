import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError } from '../../src/errors.ts';
import { decodeRecordPayload, encodeRecordPayload } from '../../src/format/record.ts';
import { encodeTensor } from '../../src/format/tensor.ts';
import { FieldKind, ImageCodec, TensorDType } from '../../src/format/layout.ts';
import type { DecodedRecord } from '../../src/format/types.ts';
import { throwsFormat, utf8 } from './helpers.ts';

const sample: DecodedRecord = {
  id: 42,
  label: 1.5,
  label2: -2,
  fields: [
    { kind: FieldKind.image, codec: ImageCodec.jpeg, bytes: Uint8Array.of(0xff, 0xd8, 0xff, 0xe0), width: 96, height: 72 },
    { kind: FieldKind.tensor, codec: TensorDType.uint8, bytes: encodeTensor({ dtype: TensorDType.uint8, shape: [3], data: Uint8Array.of(1, 2, 3) }), width: 0, height: 0 },
    { kind: FieldKind.bytes, codec: 0, bytes: utf8.encode('xyz'), width: 0, height: 0 },
    { kind: FieldKind.bytes, codec: 0, bytes: new Uint8Array(0), width: 0, height: 0 },
  ],
};

function patch(payload: Uint8Array, fn: (v: DataView) => void): Uint8Array {
  const copy = payload.slice();
  fn(new DataView(copy.buffer));
  return copy;
}

describe('record payload', () => {
  test('layout: head, descriptors, concatenated field bytes [REC-1] [REC-4] [REC-5] [REC-11]', () => {
    const p = encodeRecordPayload(sample);
    const v = new DataView(p.buffer);
    assert.equal(p.length, 32 + 16 * 4 + 4 + 11 + 3 + 0);
    assert.equal(v.getUint32(0, true), 42);
    assert.equal(v.getFloat64(8, true), 1.5);
    assert.equal(v.getFloat64(16, true), -2);
    assert.equal(v.getUint16(24, true), 4);
    assert.equal(v.getUint16(26, true), 0);
    assert.deepEqual([...p.subarray(32, 48)], [1, 1, 0, 0, 4, 0, 0, 0, 96, 0, 0, 0, 72, 0, 0, 0]);
    assert.deepEqual([...p.subarray(96, 100)], [0xff, 0xd8, 0xff, 0xe0]);
    assert.equal(p[32 + 48 + 1], 0, 'bytes fields have codec 0');
  });

  test('round trip; field bytes are views into the payload, not copies', () => {
    const p = encodeRecordPayload(sample);
    const r = decodeRecordPayload(p, 1000, 7);
    assert.deepEqual(r, sample);
    for (const f of r.fields) assert.equal(f.bytes.buffer, p.buffer);
    assert.equal(r.fields[0].bytes.byteOffset, 96);
  });

  test('short payload → FormatError [REC-1]', () => {
    throwsFormat(() => decodeRecordPayload(new Uint8Array(31), 500, 2), FormatError, { section: 'record', byteOffset: 500, recordIndex: 2 });
  });

  test('id above 2^53-1 → FormatError [REC-2] [CNV-2] [LIM-5]', () => {
    const p = patch(encodeRecordPayload(sample), (v) => v.setUint32(4, 0x00200000, true));
    throwsFormat(() => decodeRecordPayload(p, 100, 1), FormatError, { section: 'record', byteOffset: 100, recordIndex: 1, actual: '9007199254741034' });
    const max = patch(encodeRecordPayload(sample), (v) => { v.setUint32(0, 0xffffffff, true); v.setUint32(4, 0x1fffff, true); });
    assert.equal(decodeRecordPayload(max, 0).id, Number.MAX_SAFE_INTEGER);
    assert.throws(() => encodeRecordPayload({ ...sample, id: 2 ** 53 }), TypeError);
  });

  test('fieldCount above 255 → FormatError [REC-3] [LIM-3]', () => {
    const p = patch(encodeRecordPayload(sample), (v) => v.setUint16(24, 256, true));
    throwsFormat(() => decodeRecordPayload(p, 0, 0), FormatError, { byteOffset: 24, actual: 256, message: /too many fields/ });
    assert.throws(() => encodeRecordPayload({ ...sample, fields: new Array(256).fill(sample.fields[3]) }), TypeError);
  });

  test('descriptors overrunning the payload → FormatError [REC-6]', () => {
    const p = patch(encodeRecordPayload(sample), (v) => v.setUint16(24, 200, true));
    throwsFormat(() => decodeRecordPayload(p, 0), FormatError, { message: /descriptors overrun/ });
  });

  test('field lengths must add up to the payload exactly [REC-6]', () => {
    const longer = patch(encodeRecordPayload(sample), (v) => v.setUint32(32 + 4, 5, true));
    throwsFormat(() => decodeRecordPayload(longer, 10, 3), FormatError, { byteOffset: 42, recordIndex: 3, expected: 18, actual: 19 });
    const shorter = patch(encodeRecordPayload(sample), (v) => v.setUint32(32 + 32 + 4, 2, true));
    throwsFormat(() => decodeRecordPayload(shorter, 0), FormatError, { expected: 18, actual: 17 });
    const overflow = patch(encodeRecordPayload(sample), (v) => v.setUint32(32 + 4, 0xffffffff, true));
    throwsFormat(() => decodeRecordPayload(overflow, 0), FormatError, { message: /field lengths/ });
    const extra = new Uint8Array(encodeRecordPayload(sample).length + 1);
    extra.set(encodeRecordPayload(sample));
    throwsFormat(() => decodeRecordPayload(extra, 0), FormatError, { message: /field lengths/ });
  });

  test('unknown field kind → FormatError [REC-4]', () => {
    for (const kind of [0, 5, 255]) {
      const p = patch(encodeRecordPayload(sample), (v) => v.setUint8(32 + 16, kind));
      throwsFormat(() => decodeRecordPayload(p, 0, 0), FormatError, { byteOffset: 48, actual: kind });
    }
  });

  test('tensor field with bad shape → FormatError [REC-9]', () => {
    const p = patch(encodeRecordPayload(sample), (v) => v.setUint32(32 + 64 + 4, 4, true)); // dims[0] 3 → 4
    throwsFormat(() => decodeRecordPayload(p, 0, 9), FormatError, { section: 'tensor', byteOffset: 100, recordIndex: 9 });
    const badDtype = patch(encodeRecordPayload(sample), (v) => v.setUint8(32 + 16 + 1, 0));
    throwsFormat(() => decodeRecordPayload(badDtype, 0, 9), FormatError, { section: 'tensor' });
  });

  test('record flags and field flags are ignored on read [CNV-4]', () => {
    const p = patch(encodeRecordPayload(sample), (v) => { v.setUint16(26, 0xffff, true); v.setUint32(28, 1, true); v.setUint16(32 + 2, 7, true); });
    assert.deepEqual(decodeRecordPayload(p, 0), sample);
  });

  test('an empty record (no fields) is 32 bytes', () => {
    const r = { id: 0, label: 0, label2: 0, fields: [] };
    assert.equal(encodeRecordPayload(r).length, 32);
    assert.deepEqual(decodeRecordPayload(encodeRecordPayload(r), 0), r);
  });

  test('argument validation', () => {
    assert.throws(() => encodeRecordPayload({ ...sample, id: -1 }), { name: 'TypeError', message: 'Expected an integer between 0 and 2^53-1 for record.id but received -1 of type number' });
    assert.throws(() => encodeRecordPayload({ ...sample, label: '1' as never }), TypeError);
    assert.throws(() => encodeRecordPayload({ ...sample, fields: [{ ...sample.fields[0], kind: 9 as never }] }), TypeError);
    assert.throws(() => encodeRecordPayload({ ...sample, fields: [{ ...sample.fields[0], width: -1 }] }), TypeError);
    assert.throws(() => encodeRecordPayload({ ...sample, fields: [{ ...sample.fields[1], bytes: Uint8Array.of(1, 0, 0, 0, 9, 0, 0, 0) }] }), TypeError);
    assert.throws(() => encodeRecordPayload({ ...sample, fields: [{ ...sample.fields[1], codec: 0 }] }), TypeError);
    assert.throws(() => encodeRecordPayload(null as never), TypeError);
  });
});
