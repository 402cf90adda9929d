import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError, LimitExceededError } from '../../src/errors.ts';
import { crc32c } from '../../src/format/crc32c.ts';
import { checkFramePayload, checkFramePlacement, decodeFrameHeader, encodeFrame, encodeFrameHeader, frameExtent, frameOffsetAfter, isCriticalFrame, isKnownFrameKind, nextFrame, writeFrameHeaderAt } from '../../src/format/frame.ts';
import { FrameKind } from '../../src/format/layout.ts';
import { throwsFormat, utf8 } from './helpers.ts';

const payload = utf8.encode('hello frame');

function withFixedHeaderCrc(header: Uint8Array): Uint8Array {
  new DataView(header.buffer, header.byteOffset).setUint32(12, crc32c(header.subarray(0, 12)), true);
  return header;
}

describe('frame', () => {
  test('header bytes: magic F7 50, kind, flags, length, payload CRC, header CRC [FRM-1] [FRM-2] [CRC-2]', () => {
    const h = encodeFrameHeader(1, payload);
    const v = new DataView(h.buffer);
    assert.deepEqual([...h.subarray(0, 4)], [0xf7, 0x50, 1, 0]);
    assert.equal(v.getUint32(4, true), payload.length);
    assert.equal(v.getUint32(8, true), crc32c(payload));
    assert.equal(v.getUint32(12, true), crc32c(h.subarray(0, 12)));
    assert.deepEqual(decodeFrameHeader(h, 0), { kind: 1, flags: 0, payloadByteLength: payload.length, payloadCrc: crc32c(payload) });
  });

  test('encodeFrame writes no padding; frameExtent = 16 + payload [FRM-5] [ALN-3]', () => {
    assert.equal(frameExtent(11), 27);
    assert.equal(frameExtent(4080), 4096);
    const f = encodeFrame(2, payload);
    assert.equal(f.length, 27);
    assert.deepEqual(f.subarray(16, 27), payload);
    assert.equal(encodeFrame(200, payload, 1).length, 27);
    assert.equal(decodeFrameHeader(encodeFrame(200, payload, 1), 0).flags, 1);
  });

  test('writeFrameHeaderAt writes the same 16 bytes as encodeFrameHeader, in place [FRM-1] [FRM-2]', () => {
    const target = new Uint8Array(40).fill(0xee);
    writeFrameHeaderAt(target, 5, 200, payload.length, crc32c(payload), 1);
    assert.deepEqual(target.subarray(5, 21), encodeFrameHeader(200, payload, 1));
    assert.equal(target[4], 0xee);
    assert.equal(target[21], 0xee);
    assert.throws(() => writeFrameHeaderAt(target, 0, 1, 10, 0, 1), TypeError); // [FRM-8]
    assert.throws(() => writeFrameHeaderAt(target, 0, 1, -1, 0), TypeError);
  });

  test('frameOffsetAfter: only record frames are aligned [ALN-1] [ALN-3]', () => {
    assert.equal(frameOffsetAfter(100, FrameKind.record, 4096), 4096);
    assert.equal(frameOffsetAfter(8192, FrameKind.record, 4096), 8192);
    assert.equal(frameOffsetAfter(100, FrameKind.record, 1), 100);
    for (const kind of [FrameKind.annotation, FrameKind.index, FrameKind.footer, 200]) assert.equal(frameOffsetAfter(100, kind, 4096), 100);
  });

  test('nextFrame: the scan rule at the end of a frame [ALN-4]', () => {
    const bytes = new Uint8Array(8192 + 16);
    // aligned end: the frame starts there, whatever the bytes
    assert.deepEqual(nextFrame(bytes, 0, 4096, 4096), { frameOffset: 4096, afterPadding: false });
    assert.deepEqual(nextFrame(bytes, 0, 100, 1), { frameOffset: 100, afterPadding: false });
    // unaligned end, zero byte: padding up to the next multiple, then a record frame
    assert.deepEqual(nextFrame(bytes, 0, 100, 4096), { frameOffset: 4096, afterPadding: true });
    // `bytes` may start anywhere: offsets are absolute
    assert.deepEqual(nextFrame(bytes.subarray(50), 50, 100, 4096), { frameOffset: 4096, afterPadding: true });
    // unaligned end, non-zero byte (a frame magic starts with 0xF7): a frame right there
    bytes[100] = 0xf7;
    assert.deepEqual(nextFrame(bytes, 0, 100, 4096), { frameOffset: 100, afterPadding: false });
    // non-zero padding is corruption, named with its offset
    bytes[100] = 0;
    bytes[3000] = 9;
    throwsFormat(() => nextFrame(bytes, 0, 100, 4096), FormatError, { section: 'frame', byteOffset: 3000, message: /non-zero padding/ });
  });

  test('checkFramePlacement: records aligned, padding only before records [ALN-1] [ALN-4]', () => {
    checkFramePlacement(FrameKind.record, 4096, true, 4096);
    checkFramePlacement(FrameKind.annotation, 4100, false, 4096);
    checkFramePlacement(FrameKind.record, 4100, false, 1);
    throwsFormat(() => checkFramePlacement(FrameKind.record, 4100, false, 4096, 3), FormatError, { byteOffset: 4100, recordIndex: 3, message: /record frame not at a multiple/ });
    throwsFormat(() => checkFramePlacement(FrameKind.index, 8192, true, 4096), FormatError, { byteOffset: 8192, message: /padding before a frame that is not a record/ });
  });

  test('truncated header → FormatError', () => {
    throwsFormat(() => decodeFrameHeader(encodeFrameHeader(1, payload).subarray(0, 15), 100), FormatError, { section: 'frame', byteOffset: 100 });
  });

  test('bad magic → FormatError at the frame offset [FRM-1] [FRM-3]', () => {
    const h = encodeFrameHeader(1, payload);
    h[0] = 0;
    throwsFormat(() => decodeFrameHeader(h, 4096, { recordIndex: 3 }), FormatError, { section: 'frame', byteOffset: 4096, recordIndex: 3, message: /magic/ });
  });

  test('bad header CRC → FormatError before the length is trusted [FRM-3] [CRC-2]', () => {
    const h = encodeFrameHeader(1, payload);
    h[7] = 0x7f; // a huge length, CRC left stale
    throwsFormat(() => decodeFrameHeader(h, 64), FormatError, { byteOffset: 76, message: /header CRC/ });
  });

  test('length over the reader limit → LimitExceededError, nothing allocated [FRM-4] [LIM-2]', () => {
    const h = encodeFrameHeader(1, new Uint8Array(1000));
    throwsFormat(() => decodeFrameHeader(h, 64, { maxPayloadBytes: 999 }), LimitExceededError, { section: 'frame', byteOffset: 68, actual: 1000, expected: '<= 999' });
    // A claimed 2 GiB - 1 payload (CRC valid) is only a header: decoding must not allocate it.
    const huge = new Uint8Array(16);
    const v = new DataView(huge.buffer);
    v.setUint16(0, 0x50f7, true);
    v.setUint8(2, 1);
    v.setUint32(4, 0x7fffffff, true);
    withFixedHeaderCrc(huge);
    const before = process.memoryUsage().arrayBuffers;
    throwsFormat(() => decodeFrameHeader(huge, 0, { maxPayloadBytes: 1 << 30 }), LimitExceededError, { actual: 0x7fffffff });
    assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
    assert.equal(decodeFrameHeader(huge, 0).payloadByteLength, 0x7fffffff);
  });

  test('length above 2^31-1 → FormatError (format limit) [LIM-1]', () => {
    const h = encodeFrameHeader(1, payload);
    new DataView(h.buffer).setUint32(4, 0x80000000, true);
    withFixedHeaderCrc(h);
    throwsFormat(() => decodeFrameHeader(h, 0), FormatError, { byteOffset: 4, actual: 0x80000000 });
  });

  test('kind 0 is invalid [FRM-7]', () => {
    const h = encodeFrameHeader(1, payload);
    h[2] = 0;
    withFixedHeaderCrc(h);
    throwsFormat(() => decodeFrameHeader(h, 0), FormatError, { byteOffset: 2 });
    assert.throws(() => encodeFrameHeader(0, payload), TypeError);
  });

  test('unknown flag bits are ignored on read [FRM-8]', () => {
    const h = encodeFrameHeader(1, payload);
    h[3] = 0xfe;
    withFixedHeaderCrc(h);
    assert.equal(decodeFrameHeader(h, 0).flags, 0xfe);
  });

  test('payload CRC and length are checked [FRM-6] [CRC-2]', () => {
    const header = decodeFrameHeader(encodeFrameHeader(1, payload), 0);
    checkFramePayload(header, payload, 0);
    const bad = payload.slice();
    bad[3] ^= 4;
    throwsFormat(() => checkFramePayload(header, bad, 200, 5), FormatError, { section: 'frame', byteOffset: 216, recordIndex: 5, message: /payload CRC/ });
    throwsFormat(() => checkFramePayload(header, payload.subarray(1), 200), FormatError, { byteOffset: 216, actual: payload.length - 1, message: /truncated/ });
  });

  test('extension kinds: critical flag decides [EXT-1] [EXT-2] [EXT-3]', () => {
    for (const kind of [1, 2, 3, 4]) assert.ok(isKnownFrameKind(kind) && !isCriticalFrame({ kind, flags: 1, payloadByteLength: 0, payloadCrc: 0 }));
    for (const kind of [5, 127, 128, 200, 255]) {
      assert.ok(!isKnownFrameKind(kind));
      assert.ok(isCriticalFrame({ kind, flags: 1, payloadByteLength: 0, payloadCrc: 0 }));
      assert.ok(!isCriticalFrame({ kind, flags: 0x02, payloadByteLength: 0, payloadCrc: 0 }));
    }
  });

  test('argument validation', () => {
    assert.throws(() => encodeFrameHeader(256, payload), { name: 'TypeError', message: 'Expected an integer between 1 and 255 for kind but received 256 of type number' });
    assert.throws(() => encodeFrame(1, payload, 1), { name: 'TypeError', message: /0 for frame kind 1/ }); // [FRM-8]
    assert.throws(() => encodeFrame(1, payload, 4096), TypeError);
    assert.throws(() => encodeFrame(1, 'x' as never), TypeError);
    assert.throws(() => encodeFrameHeader(1, payload, 256), TypeError);
  });
});
