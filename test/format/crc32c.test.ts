import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { crc32c, crc32cRange, setCrc32cImplementation, setCrc32cLoader } from '../../src/format/crc32c.ts';
import { utf8 } from './helpers.ts';

/** Bit-at-a-time CRC-32C straight from the definition in SPEC.md §10. [CRC-1] */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('crc32c', () => {
  test('known answer "123456789" = 0xE3069283 [CRC-3]', () => {
    assert.equal(crc32c(utf8.encode('123456789')), 0xe3069283);
  });

  test('empty input is 0; 32 zero bytes = 0x8A9136AA (RFC 3720 B.4) [CRC-1]', () => {
    assert.equal(crc32c(new Uint8Array(0)), 0);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  });

  test('slicing-by-8 equals the bitwise definition for every length 0..70 and unaligned views [CRC-1]', () => {
    const data = pseudoRandomBytes(80, 7);
    for (let start = 0; start < 3; start++) {
      for (let length = 0; start + length <= 73; length++) {
        const view = data.subarray(start, start + length);
        assert.equal(crc32c(view), crc32cBitwise(view), `start ${start} length ${length}`);
      }
    }
  });

  test('seed continues a previous CRC', () => {
    const data = pseudoRandomBytes(1000, 3);
    for (const cut of [0, 1, 7, 8, 9, 500, 1000]) {
      assert.equal(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut))), crc32c(data));
    }
  });

  test('agrees with @node-rs/crc32 and can be swapped for it', () => {
    const data = pseudoRandomBytes(4099, 11);
    assert.equal(crc32c(data), nativeCrc32c(Buffer.from(data)) >>> 0);
    try {
      setCrc32cImplementation((b, seed) => nativeCrc32c(Buffer.from(b.buffer, b.byteOffset, b.byteLength), seed));
      assert.equal(crc32c(utf8.encode('123456789')), 0xe3069283);
      assert.equal(crc32c(data.subarray(9), crc32c(data.subarray(0, 9))), crc32cBitwise(data));
    } finally {
      setCrc32cImplementation(undefined);
    }
  });

  test('inputs under 64 bytes use the JS loop even with a native implementation; crc32cRange = crc32c of the range [CRC-1]', () => {
    const data = pseudoRandomBytes(200, 5);
    let calls = 0;
    try {
      setCrc32cImplementation((b, seed) => {
        calls++;
        return nativeCrc32c(Buffer.from(b.buffer, b.byteOffset, b.byteLength), seed);
      });
      calls = 0;
      assert.equal(crc32c(data.subarray(0, 12)), crc32cBitwise(data.subarray(0, 12)));
      assert.equal(calls, 0, 'a frame header CRC does not cross into native code');
      assert.equal(crc32c(data), crc32cBitwise(data));
      assert.equal(calls, 1);
    } finally {
      setCrc32cImplementation(undefined);
    }
    for (const [start, end] of [[0, 0], [0, 12], [7, 19], [3, 200]]) assert.equal(crc32cRange(data, start, end), crc32cBitwise(data.subarray(start, end)));
  });

  test('a lazy loader runs once, after afterBytes bytes were hashed in JS; results agree throughout', () => {
    const data = pseudoRandomBytes(1000, 9);
    let loads = 0;
    let nativeCalls = 0;
    try {
      setCrc32cLoader(() => {
        loads++;
        setCrc32cImplementation((b, seed) => {
          nativeCalls++;
          return nativeCrc32c(Buffer.from(b.buffer, b.byteOffset, b.byteLength), seed);
        });
      }, 2500);
      nativeCalls = 0; // the known-answer check of setCrc32cImplementation
      for (let k = 0; k < 2; k++) assert.equal(crc32c(data), crc32cBitwise(data));
      assert.equal(crc32c(data.subarray(0, 40)), crc32cBitwise(data.subarray(0, 40)), 'short inputs do not count');
      assert.equal(loads, 0);
      assert.equal(crc32c(data), crc32cBitwise(data)); // 3000 > 2500 bytes: loads, then hashes natively
      assert.equal(loads, 1);
      assert.equal(crc32c(data), crc32cBitwise(data));
      assert.equal(loads, 1);
      assert.ok(nativeCalls >= 2);
    } finally {
      setCrc32cImplementation(undefined);
    }
  });

  test('a lazy loader that installs nothing leaves the JS loop in place', () => {
    const data = pseudoRandomBytes(300, 4);
    let loads = 0;
    try {
      setCrc32cLoader(() => void loads++, 0);
      assert.equal(crc32c(data), crc32cBitwise(data));
      assert.equal(crc32c(data), crc32cBitwise(data));
      assert.equal(loads, 1);
    } finally {
      setCrc32cImplementation(undefined);
    }
    assert.throws(() => setCrc32cLoader(() => {}, -1), TypeError);
  });

  test('rejects an implementation that fails the known answer, keeping the old one', () => {
    assert.throws(() => setCrc32cImplementation(() => 0), {
      name: 'TypeError',
      message: /^Expected a CRC-32C function returning 0xE3069283 for "123456789" for fn but received/,
    });
    assert.throws(() => setCrc32cImplementation(42 as never), TypeError);
    assert.equal(crc32c(utf8.encode('123456789')), 0xe3069283);
  });
});
