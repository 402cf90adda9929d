// Batch assembly: layouts, channel order, mean subtraction, dtypes, label kinds (REFERENCE
// §1.3.1 step 6; quirk 6: NHWC per-pixel one-hot and bgr2rgb with NHWC work here).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  LabelError, allocImages, copySample, imageBatchShape, labelBatchShape, labelElementCount, sampleShapeOf,
  writeImage, writeImageLabel, writeLabelMap,
} from '../../src/augment/stream/batch.ts';
import type { Image } from '../../src/augment/pixels/image.ts';
import { layoutOf } from './helpers.ts';


/** 2×1 RGB image: pixel 0 = (10, 20, 30), pixel 1 = (40, 50, 60). */
const rgb: Image = { width: 2, height: 1, channels: 3, data: Uint8Array.of(10, 20, 30, 40, 50, 60) };

describe('writeImage', () => {
  test('NHWC float32, BGR by default, mean_color1..3 in BGR meaning', () => {
    const layout = layoutOf({ mean_color1: 1, mean_color2: 2, mean_color3: 3 });
    const out = new Float32Array(12);
    writeImage(rgb, layout, out, 1);
    assert.deepEqual([...out.subarray(0, 6)], [0, 0, 0, 0, 0, 0]);
    // out = (B - m1, G - m2, R - m3)
    assert.deepEqual([...out.subarray(6)], [30 - 1, 20 - 2, 10 - 3, 60 - 1, 50 - 2, 40 - 3]);
  });

  test('bgr2rgb works with NHWC too (quirk 6 fixed); means follow their channel', () => {
    const layout = layoutOf({ bgr2rgb: true, mean_color1: 1, mean_color2: 2, mean_color3: 3 });
    const out = new Float32Array(6);
    writeImage(rgb, layout, out, 0);
    assert.deepEqual([...out], [10 - 3, 20 - 2, 30 - 1, 40 - 3, 50 - 2, 60 - 1]);
  });

  test('NCHW writes one plane per channel', () => {
    const out = new Float32Array(6);
    writeImage(rgb, layoutOf({ order: 'NCHW' }), out, 0);
    assert.deepEqual([...out], [30, 60, 20, 50, 10, 40]);
    writeImage(rgb, layoutOf({ order: 'NCHW', bgr2rgb: true }), out, 0);
    assert.deepEqual([...out], [10, 40, 20, 50, 30, 60]);
  });

  test('dtype uint8 copies raw bytes (no mean), 16-bit samples are shifted down', () => {
    const layout = layoutOf({ dtype: 'uint8', mean_color1: 5 });
    const out = allocImages(6, layout, false);
    assert.ok(out instanceof Uint8Array);
    writeImage(rgb, layout, out, 0);
    assert.deepEqual([...out], [30, 20, 10, 60, 50, 40]);
    const wide: Image = { width: 1, height: 1, channels: 1, data: Uint16Array.of(0x1234) };
    const one = new Uint8Array(1);
    writeImage(wide, layout, one, 0);
    assert.equal(one[0], 0x12);
  });

  test('grey images subtract mean_color1; RGBA keeps alpha last', () => {
    const grey: Image = { width: 2, height: 1, channels: 1, data: Uint8Array.of(100, 200) };
    const out = new Float32Array(2);
    writeImage(grey, layoutOf({ mean_color1: 50, mean_color3: 7 }), out, 0);
    assert.deepEqual([...out], [50, 150]);
    const rgba: Image = { width: 1, height: 1, channels: 4, data: Uint8Array.of(1, 2, 3, 4) };
    const four = new Float32Array(4);
    writeImage(rgba, layoutOf({}), four, 0);
    assert.deepEqual([...four], [3, 2, 1, 4]);
  });

  test('a target too small is a TypeError naming the size', () => {
    assert.throws(() => writeImage(rgb, layoutOf({}), new Float32Array(5), 0), /at least 6 elements/);
  });
});

describe('labels', () => {
  const mask: Image = { width: 3, height: 1, channels: 1, data: Uint8Array.of(0, 2, 9) };

  test('per-pixel one-hot, NHWC (broken in v1) and NCHW; values outside [0, N) give zero rows', () => {
    const nhwc = layoutOf({ annotate: 'json', onehot: 3 });
    assert.equal(nhwc.labelKind, 'pixel-onehot');
    const out = new Float32Array(9).fill(7);
    writeLabelMap(mask, nhwc, out, 0);
    assert.deepEqual([...out], [1, 0, 0, 0, 0, 1, 0, 0, 0]);
    const nchw = layoutOf({ annotate: 'json', onehot: 3, order: 'NCHW' });
    writeLabelMap(mask, nchw, out, 0);
    assert.deepEqual([...out], [1, 0, 0, 0, 0, 0, 0, 1, 0]);
  });

  test('label maps keep values and channel order (labels are data)', () => {
    const layout = layoutOf({ annotate: 'image' });
    const two: Image = { width: 2, height: 1, channels: 2, data: Uint8Array.of(1, 2, 3, 4) };
    const out = new Float32Array(4);
    writeLabelMap(two, layout, out, 0);
    assert.deepEqual([...out], [1, 2, 3, 4]);
    writeLabelMap(two, layoutOf({ annotate: 'image', order: 'NCHW' }), out, 0);
    assert.deepEqual([...out], [1, 3, 2, 4]);
  });

  test('annotate=auto: the label is the image, swapped and mean-subtracted like it', () => {
    const layout = layoutOf({ annotate: 'auto', mean_color1: 1 });
    assert.equal(layout.labelKind, 'map');
    const out = new Float32Array(6);
    writeLabelMap(rgb, layout, out, 0);
    assert.deepEqual([...out], [29, 20, 10, 59, 50, 40]);
  });

  test('per-image labels: value, or one-hot; a non-integral label is a LabelError naming the record', () => {
    const out = new Float32Array(2);
    writeImageLabel(1.5, layoutOf({}), out, 1, 0);
    assert.equal(out[1], 1.5);
    const hot = new Float32Array(6).fill(9);
    writeImageLabel(2, layoutOf({ onehot: 3 }), hot, 1, 0);
    assert.deepEqual([...hot.subarray(3)], [0, 0, 1]);
    assert.throws(() => writeImageLabel(1.5, layoutOf({ onehot: 3 }), hot, 0, 42), (e: unknown) => e instanceof LabelError && e.recordIndex === 42 && /record 42: label 1.5/.test(e.message));
    assert.throws(() => writeImageLabel(3, layoutOf({ onehot: 3 }), hot, 0, 1), LabelError);
  });
});

describe('shapes', () => {
  test('image and label shapes for every label kind and order', () => {
    const shape = sampleShapeOf(rgb, mask1(), layoutOf({ annotate: 'json' }));
    assert.deepEqual(shape, { height: 1, width: 2, channels: 3, labelChannels: 1 });
    assert.deepEqual(imageBatchShape(4, shape, layoutOf({})), [4, 1, 2, 3]);
    assert.deepEqual(imageBatchShape(4, shape, layoutOf({ order: 'NCHW' })), [4, 3, 1, 2]);
    assert.deepEqual(labelBatchShape(4, shape, layoutOf({})), [4]);
    assert.deepEqual(labelBatchShape(4, shape, layoutOf({ onehot: 5 })), [4, 5]);
    assert.deepEqual(labelBatchShape(4, shape, layoutOf({ annotate: 'json' })), [4, 1, 2, 1]);
    const onehot = layoutOf({ annotate: 'json', onehot: 3, order: 'NCHW' });
    const s3 = sampleShapeOf(rgb, mask1(), onehot);
    assert.deepEqual(labelBatchShape(4, s3, onehot), [4, 3, 1, 2]);
    assert.equal(labelElementCount(s3, onehot), 6);
  });

  test('copySample moves one sample between tensors', () => {
    const a = Float32Array.of(1, 2, 3, 4, 5, 6);
    const b = new Float32Array(6);
    copySample(a, 2, b, 0, 2);
    assert.deepEqual([...b], [5, 6, 0, 0, 0, 0]);
  });
});

function mask1(): Image {
  return { width: 2, height: 1, channels: 1, data: Uint8Array.of(0, 1) };
}
