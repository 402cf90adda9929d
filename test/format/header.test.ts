import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError, UnsupportedVersionError } from '../../src/errors.ts';
import { crc32c } from '../../src/format/crc32c.ts';
import { decodeHeader, encodeHeader, firstFrameOffset } from '../../src/format/header.ts';
import { HEADER, SIGNATURE } from '../../src/format/layout.ts';
import { throwsFormat } from './helpers.ts';

/** Patch bytes of a valid header and fix its CRC, so only the patched field is wrong. */
function patched(patch: (view: DataView, bytes: Uint8Array) => void, options = { alignment: 1 }): Uint8Array {
  const bytes = encodeHeader(options);
  const view = new DataView(bytes.buffer);
  patch(view, bytes);
  view.setUint32(60, crc32c(bytes.subarray(0, 60)), true);
  return bytes;
}

describe('file header', () => {
  test('encodes the documented bytes [HDR-1] [HDR-2] [HDR-3] [HDR-4] [HDR-7] [CNV-1]', () => {
    const bytes = encodeHeader({ alignment: 4096, featureFlags: 0x00010000 });
    assert.equal(bytes.length, 64);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x50, 0x43, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.deepEqual([...bytes.subarray(8, 20)], [2, 1, 64, 0, 0x00, 0x10, 0, 0, 0, 0, 1, 0]); // 2.1 writers write minor 1 [HDR-2]
    assert.ok(bytes.subarray(20, 60).every((b) => b === 0), 'reserved bytes are zero');
    assert.equal(new DataView(bytes.buffer).getUint32(60, true), crc32c(bytes.subarray(0, 60)));
  });

  test('round trip, and firstFrameOffset = alignUp(headerByteLength, alignment) [HDR-8]', () => {
    for (const alignment of [1, 2, 16, 4096, 1 << 20]) {
      const h = decodeHeader(encodeHeader({ alignment }));
      assert.deepEqual(h, { majorVersion: 2, minorVersion: 1, headerByteLength: 64, alignment, featureFlags: 0 });
      assert.equal(firstFrameOffset(h), alignment <= 64 ? 64 : alignment);
    }
  });

  test('reserved bytes are ignored on read [HDR-7] [CNV-4]', () => {
    const h = decodeHeader(patched((_, b) => b.fill(0xaa, 20, 60)));
    assert.equal(h.alignment, 1);
  });

  test('too short → FormatError', () => {
    throwsFormat(() => decodeHeader(encodeHeader({ alignment: 1 }).subarray(0, 63)), FormatError, { section: 'header', byteOffset: 0, actual: 63 });
  });

  test('bad signature → FormatError at the first differing byte [HDR-1]', () => {
    for (let i = 0; i < 8; i++) {
      const bytes = encodeHeader({ alignment: 1 });
      bytes[i] ^= 0x20;
      throwsFormat(() => decodeHeader(bytes), FormatError, { section: 'header', byteOffset: i, message: /bad signature/ });
    }
    // A PicPac 1.0 file starts with AC 59 00 01.
    throwsFormat(() => decodeHeader(new Uint8Array(8192).fill(0).fill(0xac, 0, 1)), FormatError, { byteOffset: 0 });
  });

  test('bad header CRC → FormatError naming offset 60 [HDR-4] [CRC-2]', () => {
    const bytes = encodeHeader({ alignment: 1 });
    bytes[13] ^= 1; // alignment byte, CRC not fixed
    throwsFormat(() => decodeHeader(bytes), FormatError, { section: 'header', byteOffset: 60, message: /CRC/ });
    const crcFlip = encodeHeader({ alignment: 1 });
    crcFlip[62] ^= 0x80;
    throwsFormat(() => decodeHeader(crcFlip), FormatError, { byteOffset: 60 });
  });

  test('major 3 (and 1, 0, 255) → UnsupportedVersionError [VER-1] [HDR-2]', () => {
    for (const major of [0, 1, 3, 255]) {
      throwsFormat(() => decodeHeader(patched((v) => v.setUint8(8, major))), UnsupportedVersionError, { section: 'header', byteOffset: 8, expected: 2, actual: major });
    }
  });

  test('minor 7 is readable; a larger headerByteLength moves the first frame [VER-2] [HDR-3]', () => {
    const h = decodeHeader(encodeHeader({ alignment: 1, minorVersion: 7 }));
    assert.equal(h.minorVersion, 7);
    const big = patched((v) => v.setUint16(10, 100, true));
    const hb = decodeHeader(big);
    assert.equal(hb.headerByteLength, 100);
    assert.equal(firstFrameOffset(hb), 100);
    assert.equal(firstFrameOffset(decodeHeader(patched((v) => v.setUint16(10, 100, true), { alignment: 64 }))), 128);
  });

  test('headerByteLength below 64 → FormatError [HDR-3]', () => {
    throwsFormat(() => decodeHeader(patched((v) => v.setUint16(10, 63, true))), FormatError, { byteOffset: 10, actual: 63 });
  });

  test('bad alignment → FormatError [HDR-5]', () => {
    for (const alignment of [0, 3, 12, 4097, 1 << 21, 0xffffffff]) {
      throwsFormat(() => decodeHeader(patched((v) => v.setUint32(12, alignment, true))), FormatError, { section: 'header', byteOffset: 12, actual: alignment });
    }
  });

  test('unknown critical feature bit → UnsupportedVersionError; ancillary bits are ignored [HDR-6] [VER-4]', () => {
    for (const bit of [0, 7, 15]) {
      throwsFormat(() => decodeHeader(encodeHeader({ alignment: 1, featureFlags: 1 << bit })), UnsupportedVersionError, { byteOffset: 16 });
    }
    for (const bit of [16, 23, 31]) {
      assert.equal(decodeHeader(encodeHeader({ alignment: 1, featureFlags: (1 << bit) >>> 0 })).featureFlags, (1 << bit) >>> 0);
    }
  });

  test('encodeHeader validates its options with the sharp sentence', () => {
    assert.throws(() => encodeHeader({ alignment: 3 }), { name: 'TypeError', message: 'Expected 1 or a power of two up to 1048576 for options.alignment but received 3 of type number' });
    assert.throws(() => encodeHeader({ alignment: 1, featureFlags: -1 }), TypeError);
    assert.throws(() => encodeHeader({ alignment: 1, minorVersion: 256 }), TypeError);
    assert.throws(() => encodeHeader(null as never), TypeError);
  });

  test('layout constants match the spec table', () => {
    assert.equal(HEADER.byteLength, 64);
    assert.equal(SIGNATURE.length, 8);
  });
});
