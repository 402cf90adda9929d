// Segment header codec of format 1.0 (REFERENCE §1.1.2): layout, validation, link checks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError, LimitExceededError, UnfinishedFileError, UnsupportedVersionError } from '../../../src/errors.ts';
import { MAX_SEG_RECORDS, SEGMENT_HEADER, SEGMENT_HEADER_SIZE } from '../../../src/format/v1/layout.ts';
import { checkSegmentLink, decodeSegmentHeader, encodeSegmentHeader, isUnclosedSegment, segmentEnd } from '../../../src/format/v1/segment.ts';

const hex = (b: Uint8Array, from: number, to: number): string => Buffer.from(b.subarray(from, to)).toString('hex');

function formatError(fn: () => unknown, check: (e: FormatError) => void): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FormatError, String(e));
    check(e);
    return true;
  });
}

describe('segment header', () => {
  // [V1-1] the 8192-byte segment header: magic, version, count <= 1020, link, sizes[1020], groups[1020].
  test('table: 32-byte fixed part, sizes at 32, groups at 4112, 8192 bytes in all [V1-1]', () => {
    assert.equal(SEGMENT_HEADER.sizes.offset, 32);
    assert.equal(SEGMENT_HEADER.groups.offset, 4112);
    assert.equal(SEGMENT_HEADER.groups.offset + SEGMENT_HEADER.groups.size, SEGMENT_HEADER_SIZE);
  });

  test('encodes the §1.1.9 hex dump (3 aligned records, labels 1.5, 0, 2) [V1-1]', () => {
    const bytes = encodeSegmentHeader({ recordCount: 3, link: 0x5000, sizes: [4096, 4096, 4096], groups: [1.5, 0, 2] });
    assert.equal(bytes.length, 8192);
    assert.equal(hex(bytes, 0, 16), 'ac590001030000000050000000000000');
    assert.equal(hex(bytes, 16, 32), '00'.repeat(16));
    assert.equal(hex(bytes, 0x20, 0x30), '00100000001000000010000000000000');
    assert.equal(hex(bytes, 0x1010, 0x101c), '0000c03f0000000000000040');
    assert.equal(bytes.subarray(0x101c).every((b) => b === 0), true);
  });

  test('round trip, and decode returns only the used slots', () => {
    const sizes = Array.from({ length: MAX_SEG_RECORDS }, (_, i) => 64 + i);
    const groups = sizes.map((_, i) => i * 0.25);
    const h = decodeSegmentHeader(encodeSegmentHeader({ recordCount: MAX_SEG_RECORDS, link: 2 ** 40, sizes, groups }));
    assert.equal(h.recordCount, MAX_SEG_RECORDS);
    assert.equal(h.link, 2 ** 40);
    assert.deepEqual([...h.sizes], sizes);
    assert.deepEqual([...h.groups], groups);
    const unclosed = decodeSegmentHeader(encodeSegmentHeader({ recordCount: 0, link: 0, sizes: [], groups: [] }));
    assert.equal(isUnclosedSegment(unclosed), true);
    assert.equal(unclosed.sizes.length, 0);
  });

  test('encode validates its arguments', () => {
    assert.throws(() => encodeSegmentHeader({ recordCount: 1021, link: 0, sizes: [], groups: [] }), RangeError);
    assert.throws(() => encodeSegmentHeader({ recordCount: 1, link: -1, sizes: [64], groups: [0] }), RangeError);
    assert.throws(() => encodeSegmentHeader({ recordCount: 2, link: 0, sizes: [64], groups: [0] }), RangeError);
  });

  // [V1-3] magic and version are checked (the original did not), and the count <= 1020.
  test('decode errors name the byte offset (absolute) and what was expected [V1-3]', () => {
    const good = encodeSegmentHeader({ recordCount: 2, link: 8192 + 200, sizes: [100, 100], groups: [0, 1] });
    const at = 5000;
    formatError(() => decodeSegmentHeader(good.subarray(0, 8191), { byteOffset: at }), (e) => {
      assert.deepEqual([e.section, e.byteOffset, e.actual], ['v1-segment', at, '8191 bytes']);
    });
    const badMagic = good.slice();
    badMagic[1] = 0x58;
    formatError(() => decodeSegmentHeader(badMagic, { byteOffset: at }), (e) => assert.deepEqual([e.byteOffset, e.actual], [at, '0x58AC']));
    const badVersion = good.slice();
    badVersion[2] = 1;
    formatError(() => decodeSegmentHeader(badVersion, { byteOffset: at }), (e) => {
      assert.ok(e instanceof UnsupportedVersionError);
      assert.equal(e.byteOffset, at + 2);
    });
    const tooMany = good.slice();
    new DataView(tooMany.buffer).setUint16(4, 1021, true);
    formatError(() => decodeSegmentHeader(tooMany), (e) => assert.deepEqual([e.byteOffset, e.actual], [4, 1021]));
    const hugeLink = good.slice();
    new DataView(hugeLink.buffer).setUint32(12, 0x200000, true);
    formatError(() => decodeSegmentHeader(hugeLink), (e) => assert.equal(e.byteOffset, 8));
    const tinyRecord = good.slice();
    new DataView(tinyRecord.buffer).setUint32(36, 10, true);
    formatError(() => decodeSegmentHeader(tinyRecord, { firstRecordIndex: 1020 }), (e) => assert.deepEqual([e.byteOffset, e.recordIndex], [36, 1021]));
    const hugeRecord = good.slice();
    new DataView(hugeRecord.buffer).setUint32(32, 512 * 1024 * 1024, true);
    formatError(() => decodeSegmentHeader(hugeRecord), (e) => assert.ok(e instanceof LimitExceededError));
  });

  // [V1-4] a crashed writer's last segment says 0 records and link 0: unfinished, recoverable.
  test('checkSegmentLink: unclosed → UnfinishedFileError at the segment; mismatch and past-EOF → FormatError at the link', () => {
    const h = decodeSegmentHeader(encodeSegmentHeader({ recordCount: 2, link: 100 + 8192 + 200, sizes: [100, 100], groups: [0, 0] }));
    assert.equal(segmentEnd(h, 100), 100 + 8192 + 200);
    checkSegmentLink(h, 100, 100 + 8192 + 200);
    formatError(() => checkSegmentLink(h, 100, 100 + 8192 + 199), (e) => assert.deepEqual([e.byteOffset, e.actual], [108, 8492]));
    formatError(() => checkSegmentLink(h, 0, 1 << 20), (e) => assert.deepEqual([e.byteOffset, e.expected, e.actual], [8, 8392, 8492]));
    const open = decodeSegmentHeader(encodeSegmentHeader({ recordCount: 0, link: 0, sizes: [], groups: [] }));
    formatError(() => checkSegmentLink(open, 95642, 146554), (e) => {
      assert.ok(e instanceof UnfinishedFileError);
      assert.equal(e.byteOffset, 95642);
      assert.match(e.message, /recover/);
    });
  });
});
