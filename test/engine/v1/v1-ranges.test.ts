// Plan-then-fetch helpers of the 1.0 reader: coalescing plan, chunked visiting, read window.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySource } from '../../../src/engine/sources/byte-source.ts';
import { ReadWindow, forEachRange, planChunks } from '../../../src/engine/v1/v1-ranges.ts';

const r = (byteOffset: number, byteLength: number) => ({ byteOffset, byteLength });

describe('v1 ranges', () => {
  test('planChunks merges neighbours within the gap and under the chunk limit', () => {
    const plan = planChunks([r(0, 10), r(15, 10), r(100, 10), r(105, 50), r(1000, 1)], { gapBytes: 10, maxChunkBytes: 60 });
    assert.deepEqual(plan, [
      { byteOffset: 0, byteLength: 25, members: [0, 1] },
      { byteOffset: 100, byteLength: 55, members: [2, 3] },
      { byteOffset: 1000, byteLength: 1, members: [4] },
    ]);
    assert.equal(planChunks([r(0, 10), r(5, 60)], { maxChunkBytes: 60 }).length, 2, 'limit splits');
    assert.deepEqual(planChunks([]), []);
  });

  test('forEachRange visits every range with its bytes (short at the end of the source) in few reads', async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i & 255);
    const source = new MemorySource(bytes);
    const ranges = [r(0, 4), r(10, 4), r(500, 4), r(998, 10)];
    const seen: Array<[number, number[]]> = [];
    await forEachRange(source, ranges, (i, b) => seen.push([i, [...b]]), { gapBytes: 16, concurrency: 2 });
    seen.sort((a, b) => a[0] - b[0]);
    assert.deepEqual(seen, [[0, [0, 1, 2, 3]], [1, [10, 11, 12, 13]], [2, [244, 245, 246, 247]], [3, [230, 231]]]);
    assert.equal(source.counter.reads, 3);
  });

  test('ReadWindow serves sequential requests from one read-ahead', async () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => i & 255);
    const source = new MemorySource(bytes);
    const window = new ReadWindow(source, 128);
    assert.deepEqual([...(await window.bytesAt(0, 4))], [0, 1, 2, 3]);
    assert.deepEqual([...(await window.bytesAt(100, 4))], [100, 101, 102, 103]);
    assert.equal(source.counter.reads, 1);
    assert.deepEqual([...(await window.bytesAt(126, 4))], [126, 127, 128, 129]);
    assert.equal(source.counter.reads, 2);
    assert.deepEqual([...(await window.bytesAt(298, 10))], [42, 43]);
    assert.deepEqual([...(await window.bytesAt(5, 2))], [5, 6], 'backwards re-reads');
  });
});
