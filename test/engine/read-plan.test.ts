// The pure read planner (plan, then fetch: STYLE §10).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { planReads, sliceReads } from '../../src/engine/sources/read-plan.ts';

describe('planReads', () => {
  test('merges neighbours within the gap, keeps far ranges apart, sorts by offset', () => {
    const ranges = [
      { byteOffset: 1000, byteLength: 10 },
      { byteOffset: 0, byteLength: 100 },
      { byteOffset: 150, byteLength: 50 },
      { byteOffset: 1_000_000, byteLength: 5 },
    ];
    const plan = planReads(ranges, { maxGapBytes: 1000 });
    assert.deepEqual(plan, [
      { byteOffset: 0, byteLength: 1010, rangeIndices: [1, 2, 0] },
      { byteOffset: 1_000_000, byteLength: 5, rangeIndices: [3] },
    ]);
    assert.equal(planReads(ranges, { maxGapBytes: 0 }).length, 4);
  });

  test('overlapping and contained ranges, empty ranges, maxReadBytes', () => {
    const ranges = [
      { byteOffset: 10, byteLength: 100 },
      { byteOffset: 20, byteLength: 10 },
      { byteOffset: 50, byteLength: 0 },
      { byteOffset: 105, byteLength: 20 },
    ];
    assert.deepEqual(planReads(ranges), [{ byteOffset: 10, byteLength: 115, rangeIndices: [0, 1, 3] }]);
    assert.deepEqual(planReads(ranges, { maxReadBytes: 100 }).map((r) => [r.byteOffset, r.byteLength]), [[10, 100], [105, 20]]);
    assert.deepEqual(planReads([]), []);
  });

  test('sliceReads cuts each range back out, in caller order, short at the end of the source', () => {
    const source = Uint8Array.from({ length: 300 }, (_, i) => i);
    const ranges = [
      { byteOffset: 200, byteLength: 50 },
      { byteOffset: 5, byteLength: 3 },
      { byteOffset: 280, byteLength: 100 },
    ];
    const plan = planReads(ranges, { maxGapBytes: 10 });
    const bytes = plan.map((p) => source.subarray(p.byteOffset, Math.min(300, p.byteOffset + p.byteLength)));
    const out = sliceReads(ranges, plan, bytes);
    assert.deepEqual(Array.from(out[0]), Array.from(source.subarray(200, 250)));
    assert.deepEqual(Array.from(out[1]), [5, 6, 7]);
    assert.equal(out[2].length, 20);
  });
});
