import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError } from '../../src/errors.ts';
import { decodeIndexPayload, encodeIndexPayload, indexEntryFromRecord } from '../../src/format/index-block.ts';
import { FieldKind, ImageCodec } from '../../src/format/layout.ts';
import type { IndexBlock } from '../../src/format/types.ts';
import { throwsFormat } from './helpers.ts';

/** A payload offset far beyond previousIndexOffset. */
const AT = 2 ** 40;

const block: IndexBlock = {
  firstRecordIndex: 10,
  previousIndexOffset: 4096,
  records: [
    { frameOffset: 8192, payloadByteLength: 100, payloadCrc: 0xdeadbeef, id: 7, label: 1.5, label2: -1, width: 96, height: 72, fieldCount: 2, firstImageCodec: ImageCodec.jpeg, entryFlags: 0 },
    { frameOffset: 12288, payloadByteLength: 32, payloadCrc: 1, id: Number.MAX_SAFE_INTEGER, label: 0, label2: 0, width: 0, height: 0, fieldCount: 0, firstImageCodec: 0, entryFlags: 0 },
  ],
  annotations: [
    { recordIndex: 3, frameOffset: 9000, payloadByteLength: 40, payloadCrc: 0x12345678 },
    { recordIndex: 4, frameOffset: 0, payloadByteLength: 0, payloadCrc: 0 },
  ],
};

function patch(p: Uint8Array, fn: (v: DataView) => void): Uint8Array {
  const c = p.slice();
  fn(new DataView(c.buffer));
  return c;
}

describe('index block payload', () => {
  test('layout: 48-byte head, 64-byte record entries, 24-byte annotation entries [IDX-1] [IDX-2] [IDX-3]', () => {
    const p = encodeIndexPayload(block);
    const v = new DataView(p.buffer);
    assert.equal(p.length, 48 + 2 * 64 + 2 * 24);
    assert.deepEqual([v.getUint32(0, true), v.getUint32(8, true), v.getUint32(16, true), v.getUint32(24, true), v.getUint32(32, true), v.getUint32(36, true)], [10, 2, 2, 4096, 64, 24]);
    assert.equal(v.getUint32(48, true), 8192);
    assert.equal(v.getUint32(48 + 12, true), 0xdeadbeef);
    assert.equal(p[48 + 50], ImageCodec.jpeg);
    assert.equal(v.getUint32(48 + 128, true), 3);
    assert.ok(p.subarray(40, 48).every((b) => b === 0));
  });

  test('round trip', () => {
    assert.deepEqual(decodeIndexPayload(encodeIndexPayload(block), AT), block);
    const empty = { firstRecordIndex: 0, previousIndexOffset: 0, records: [], annotations: [] };
    assert.deepEqual(decodeIndexPayload(encodeIndexPayload(empty), 0), empty);
  });

  test('larger entry lengths from a newer minor are honoured [IDX-2] [VER-2]', () => {
    const p = encodeIndexPayload(block);
    // Re-lay the entries at 80 and 32 bytes with junk in the extra bytes.
    const grown = new Uint8Array(48 + 2 * 80 + 2 * 32).fill(0xee);
    grown.set(p.subarray(0, 48));
    const v = new DataView(grown.buffer);
    v.setUint32(32, 80, true);
    v.setUint32(36, 32, true);
    for (let i = 0; i < 2; i++) grown.set(p.subarray(48 + 64 * i, 48 + 64 * (i + 1)), 48 + 80 * i);
    for (let i = 0; i < 2; i++) grown.set(p.subarray(176 + 24 * i, 176 + 24 * (i + 1)), 208 + 32 * i);
    assert.deepEqual(decodeIndexPayload(grown, AT), block);
  });

  test('previousIndexOffset must point before this block [IDX-8]', () => {
    throwsFormat(() => decodeIndexPayload(encodeIndexPayload(block), 4096 + 16), FormatError, { section: 'index', byteOffset: 4096 + 16 + 24, actual: 4096 });
    assert.equal(decodeIndexPayload(encodeIndexPayload(block), 4096 + 17).previousIndexOffset, 4096);
    assert.equal(decodeIndexPayload(encodeIndexPayload({ ...block, previousIndexOffset: 0 }), 0).previousIndexOffset, 0);
  });

  test('entry lengths below 64 / 24 → FormatError [IDX-2]', () => {
    throwsFormat(() => decodeIndexPayload(patch(encodeIndexPayload(block), (v) => v.setUint32(32, 63, true)), 1000), FormatError, { section: 'index', byteOffset: 1032, actual: 63 });
    throwsFormat(() => decodeIndexPayload(patch(encodeIndexPayload(block), (v) => v.setUint32(36, 0, true)), 1000), FormatError, { byteOffset: 1036, actual: 0 });
  });

  test('counts must match the payload length exactly, checked before reading entries [IDX-3]', () => {
    throwsFormat(() => decodeIndexPayload(patch(encodeIndexPayload(block), (v) => v.setUint32(8, 3, true)), 0), FormatError, { byteOffset: 8, message: /counts/ });
    throwsFormat(() => decodeIndexPayload(patch(encodeIndexPayload(block), (v) => v.setUint32(20, 0x1000, true)), 0), FormatError, { message: /counts/ });
    throwsFormat(() => decodeIndexPayload(encodeIndexPayload(block).subarray(0, 47), 0), FormatError, { actual: 47 });
    throwsFormat(() => decodeIndexPayload(encodeIndexPayload(block).subarray(0, 200), 0), FormatError, { message: /counts/ });
  });

  test('u64 above 2^53-1 in a count, offset or entry → FormatError [CNV-2] [LIM-5]', () => {
    for (const at of [4, 12, 20, 28, 48 + 4, 48 + 20, 176 + 4, 176 + 12]) {
      throwsFormat(() => decodeIndexPayload(patch(encodeIndexPayload(block), (v) => v.setUint32(at, 0x00400000, true)), AT), FormatError, { section: 'index', message: /exceeds 2\^53-1/ });
    }
    throwsFormat(() => decodeIndexPayload(patch(encodeIndexPayload(block), (v) => { v.setUint32(0, 0xffffffff, true); v.setUint32(4, 0x001fffff, true); }), AT), FormatError, { message: /record indices exceed/ });
    throwsFormat(() => decodeIndexPayload(patch(encodeIndexPayload(block), (v) => v.setUint32(48 + 4, 0x00400000, true)), AT), FormatError, { byteOffset: AT + 48, recordIndex: 10 });
  });

  test('indexEntryFromRecord takes width, height, codec from the first image field [IDX-5]', () => {
    const record = {
      id: 3,
      label: 2,
      label2: 1,
      fields: [
        { kind: FieldKind.label, codec: ImageCodec.png, bytes: new Uint8Array(1), width: 8, height: 6 },
        { kind: FieldKind.image, codec: ImageCodec.webp, bytes: new Uint8Array(2), width: 640, height: 480 },
        { kind: FieldKind.image, codec: ImageCodec.jpeg, bytes: new Uint8Array(2), width: 1, height: 1 },
      ],
    };
    const payload = new Uint8Array(123);
    assert.deepEqual(indexEntryFromRecord(777, payload, -1, record), {
      frameOffset: 777, payloadByteLength: 123, payloadCrc: 0xffffffff, id: 3, label: 2, label2: 1, width: 640, height: 480, fieldCount: 3, firstImageCodec: ImageCodec.webp, entryFlags: 0,
    });
    const none = indexEntryFromRecord(0, payload, 0, { ...record, fields: [] });
    assert.deepEqual([none.width, none.height, none.firstImageCodec, none.fieldCount], [0, 0, 0, 0]);
  });

  test('argument validation', () => {
    assert.throws(() => encodeIndexPayload({ ...block, firstRecordIndex: -1 }), TypeError);
    assert.throws(() => encodeIndexPayload({ ...block, records: [{ ...block.records[0], payloadCrc: 2 ** 32 }] }), TypeError);
    assert.throws(() => encodeIndexPayload({ ...block, annotations: [{ ...block.annotations[0], frameOffset: 1.5 }] }), TypeError);
    assert.throws(() => encodeIndexPayload({ ...block, records: [{ ...block.records[0], fieldCount: 256 }] }), TypeError);
  });
});
