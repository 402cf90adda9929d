import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError, UnfinishedFileError } from '../../src/errors.ts';
import { crc32c } from '../../src/format/crc32c.ts';
import { decodeFooterFrame, encodeFooterFrame } from '../../src/format/footer.ts';
import { decodeFrameHeader } from '../../src/format/frame.ts';
import { throwsFormat } from './helpers.ts';

const footer = { indexOffset: 5000, recordCount: 12, annotatedCount: 3, generation: 2, footerOffset: 6000 };

/** Patch the footer payload and re-seal both CRCs, so only the semantic check can fail. */
function resealed(fn: (v: DataView) => void, bytes = encodeFooterFrame(footer)): Uint8Array {
  const c = bytes.slice();
  const v = new DataView(c.buffer);
  fn(v);
  v.setUint32(8, crc32c(c.subarray(16)), true);
  v.setUint32(12, crc32c(c.subarray(0, 12)), true);
  return c;
}

describe('footer frame', () => {
  test('a 64-byte kind-4 frame with a 48-byte payload [FTR-1] [FTR-2]', () => {
    const b = encodeFooterFrame(footer);
    assert.equal(b.length, 64);
    assert.deepEqual(decodeFrameHeader(b, 6000), { kind: 4, flags: 0, payloadByteLength: 48, payloadCrc: crc32c(b.subarray(16)) });
    const v = new DataView(b.buffer);
    assert.deepEqual([v.getUint32(16, true), v.getUint32(24, true), v.getUint32(32, true), v.getUint32(40, true), v.getUint32(48, true)], [5000, 12, 3, 2, 6000]);
    assert.ok(b.subarray(44, 48).every((x) => x === 0) && b.subarray(56, 64).every((x) => x === 0));
  });

  test('round trip [FTR-4] [FTR-5] [FTR-6]', () => {
    assert.deepEqual(decodeFooterFrame(encodeFooterFrame(footer), 6000), footer);
  });

  test('any mismatch → UnfinishedFileError naming the offset [FTR-3]', () => {
    const good = encodeFooterFrame(footer);
    const cases: Array<[string, Uint8Array, number]> = [
      ['short', good.subarray(1), 6000],
      ['magic', resealed((v) => v.setUint8(0, 0)), 6000],
      ['header CRC', Uint8Array.from(good, (x, i) => (i === 5 ? x ^ 1 : x)), 6000],
      ['payload CRC', Uint8Array.from(good, (x, i) => (i === 20 ? x ^ 1 : x)), 6000],
      ['kind', resealed((v) => v.setUint8(2, 1)), 6000],
      ['payload length', resealed((v) => v.setUint32(4, 47, true)), 6000],
      ['footerOffset vs position', good, 6001],
      ['generation 0', resealed((v) => v.setUint32(16 + 24, 0, true)), 6000],
      ['index after footer', resealed((v) => v.setUint32(16, 6000, true)), 6000],
      ['annotated > records', resealed((v) => v.setUint32(16 + 16, 13, true)), 6000],
      ['u64 > 2^53-1', resealed((v) => v.setUint32(16 + 12, 0x00200000, true)), 6000],
      ['zeros', new Uint8Array(64), 6000],
      ['negative offset', good, -1],
    ];
    for (const [name, bytes, at] of cases) {
      const e = throwsFormat(() => decodeFooterFrame(bytes, at), UnfinishedFileError, { section: 'footer' });
      assert.ok(e instanceof FormatError && e.code === 'UNFINISHED', name);
      assert.ok(e.byteOffset >= at && e.byteOffset < Math.max(at, 0) + 64, `${name}: byteOffset ${e.byteOffset}`);
    }
  });

  test('argument validation', () => {
    assert.throws(() => encodeFooterFrame({ ...footer, generation: 0 }), TypeError);
    assert.throws(() => encodeFooterFrame({ ...footer, annotatedCount: 13 }), TypeError);
    assert.throws(() => encodeFooterFrame({ ...footer, indexOffset: 6000 }), TypeError);
    assert.throws(() => encodeFooterFrame({ ...footer, recordCount: 2 ** 53 }), TypeError);
  });
});
