// Batch tensors in one shared WebAssembly memory (stream/batch-arena.ts) written by the
// shared-memory kernels (pixels/convert-simd.ts, wasm/convert.wat): the same bytes as batch.ts's
// writeImage / writeLabelMap for any size (chunked copies, tails that are not whole groups of 4
// pixels or 16 bytes), in place for staged samples, and blocks that never overlap.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BatchArena } from '../../src/augment/stream/batch-arena.ts';
import { DECODE_TARGET_SKEW_BYTES } from '../../src/augment/pixels/decode-target.ts';
import { SLOT_BYTES, SharedConverter } from '../../src/augment/pixels/convert-simd.ts';
import { finishStagedImage, finishStagedLabelMap, sampleShapeOf, stageImage, stageLabelMap, writeImage, writeLabelMap } from '../../src/augment/stream/batch.ts';
import { float32Bytes, patternBytes, referenceSample, referenceUint8Sample } from './helpers.ts';


const arena = BatchArena.create(2);
const skip = arena === undefined ? 'WebAssembly SIMD with shared memory is unavailable here' : false;

describe('batch arena', { skip }, () => {
  test('blocks start 8 bytes past a 64-byte boundary (never 16-aligned), past the thread slots, disjoint; released blocks are reused; views see the memory', () => {
    const a = BatchArena.create(3)!;
    const x = a.alloc(100)!;
    const y = a.alloc(70_000)!; // past the initial pages: the memory grows
    assert.equal(DECODE_TARGET_SKEW_BYTES, 8);
    assert.ok(x >= 3 * SLOT_BYTES && x % 64 === 8 && y % 64 === 8, `offsets ${x}, ${y}`);
    assert.ok(y >= x + 100);
    a.float32(y, 17_500).fill(2.5);
    assert.equal(new Float32Array(a.memory.buffer, y, 4)[3], 2.5);
    a.release(x, 100);
    assert.equal(a.alloc(56), x, 'first fit');
    const z = a.alloc(57)!;
    assert.ok(z >= y + 70_000, 'a block of 57 bytes and its skew need a second line: not the freed one');
    a.release(y, 70_000);
    assert.equal(a.alloc(70_000), y, 'a released block is reused at the same offset');
    assert.equal(a.alloc(2 ** 31), undefined, 'beyond the maximum: the caller falls back');
  });

  test('converter = writeImage / writeLabelMap, copied through the chunk or in place, places around untouched', () => {
    const converter = new SharedConverter(arena!.memory, 1);
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 180 }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 3 }), fc.nat(),
      fc.constantFrom([0, 0, 0], [104, 117, 123.5]), fc.boolean(), fc.constantFrom(1, 3), fc.boolean(),
      (width, height, places, at, mean, rgb, labelChannels, inPlace) => {
        const index = at % places;
        const { layout, image, label, per, perLabel, expected, expectedLabels } = referenceSample({ width, height, places, index, seed: at, mean, rgb, labelChannels, fill: -9 });
        const imageBlock = arena!.alloc(per * places * 4)!;
        const labelBlock = arena!.alloc(perLabel * places * 4)!;
        try {
          const images = arena!.float32(imageBlock, per * places).fill(-9);
          const labels = arena!.float32(labelBlock, perLabel * places).fill(-9);
          if (inPlace) {
            const shape = sampleShapeOf(image, label, layout);
            assert.ok(stageImage(image, layout, images, index) && stageLabelMap(label, layout, labels, index));
            finishStagedImage(shape, layout, images, index, converter);
            finishStagedLabelMap(shape, labels, index, converter);
          } else {
            writeImage(image, layout, images, index, converter);
            writeLabelMap(label, layout, labels, index, converter);
          }
          assert.deepEqual(float32Bytes(images), float32Bytes(expected));
          assert.deepEqual(float32Bytes(labels), float32Bytes(expectedLabels));
        } finally {
          arena!.release(imageBlock, per * places * 4);
          arena!.release(labelBlock, perLabel * places * 4);
        }
      }), { numRuns: 150 });
  });

  test('dtype uint8: the permute kernel (copied or in place) = writeImage', () => {
    const converter = new SharedConverter(arena!.memory, 1);
    fc.assert(fc.property(fc.integer({ min: 1, max: 180 }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 3 }), fc.nat(), fc.boolean(), fc.boolean(),
      (width, height, places, at, rgb, inPlace) => {
        const index = at % places;
        const { layout, image, per, expected } = referenceUint8Sample({ width, height, places, index, seed: at, rgb, fill: 3 });
        const block = arena!.alloc(per * places)!;
        try {
          const images = arena!.uint8(block, per * places).fill(3);
          if (inPlace) {
            assert.ok(stageImage(image, layout, images, index));
            finishStagedImage(sampleShapeOf(image, undefined, layout), layout, images, index, converter);
          } else {
            writeImage(image, layout, images, index, converter);
          }
          assert.deepEqual(new Uint8Array(images), expected);
        } finally {
          arena!.release(block, per * places);
        }
      }), { numRuns: 120 });
  });

  test('a mean that is no float32 value is declined (the exact JS loop runs instead)', () => {
    const converter = new SharedConverter(arena!.memory, 2);
    const block = arena!.alloc(4 * 12)!;
    const target = arena!.float32(block, 12).fill(-1);
    assert.equal(converter.rgbToFloat(patternBytes(12, 1), target, 0, 12, [2, 1, 0], [0.1, 0, 0]), false);
    assert.equal(converter.rgbToFloatInPlace(target, 0, 12, [2, 1, 0], [0.1, 0, 0]), false);
    assert.deepEqual([...target], new Array(12).fill(-1));
    arena!.release(block, 48);
  });
});
