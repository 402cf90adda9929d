// Staged conversion (batch.ts): a worker leaves a sample's 8-bit pixels at the start of its
// float32 place and the caller converts them in place. The result must be writeImage's /
// writeLabelMap's exact bytes, the neighbouring places untouched — for the wasm kernel (float32
// means), the JS loop (means that are not float32 values) and pixel counts that are not a
// multiple of the kernel's 4; for dtype uint8 the caller only puts the channels in order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  finishStagedImage, finishStagedLabelMap, sampleShapeOf, stageImage, stageLabelMap, stagingView, writeImage, writeLabelMap,
} from '../../src/augment/stream/batch.ts';
import { layoutOf, float32Bytes, patternBytes, referenceSample, referenceUint8Sample } from './helpers.ts';
import type { Image } from '../../src/augment/pixels/image.ts';


const sample = fc.record({
  width: fc.integer({ min: 1, max: 37 }),
  height: fc.integer({ min: 1, max: 23 }),
  places: fc.integer({ min: 1, max: 4 }),
  seed: fc.integer({ min: 0, max: 255 }),
  // Integers take the wasm kernel; 0.1 is no float32 value, so the JS loop runs.
  mean: fc.constantFrom([0, 0, 0], [104, 117, 123], [0.1, -3, 255.5]),
  rgb: fc.boolean(),
  labelChannels: fc.constantFrom(1, 3),
});


describe('staged conversion', () => {
  test('stage + finish = writeImage / writeLabelMap, in a shared batch, other places untouched', () => {
    fc.assert(fc.property(sample, fc.nat(), ({ width, height, places, seed, mean, rgb, labelChannels }, at) => {
      const index = at % places;
      const { layout, image, label, per, perLabel, expected, expectedLabels } = referenceSample({ width, height, places, index, seed, mean, rgb, labelChannels, fill: -7 });
      const shape = sampleShapeOf(image, label, layout);
      const images = new Float32Array(new SharedArrayBuffer(per * places * 4)).fill(-7);
      const labels = new Float32Array(new SharedArrayBuffer(perLabel * places * 4)).fill(-7);
      assert.equal(stageImage(image, layout, images, index), true);
      assert.equal(stageLabelMap(label, layout, labels, index), true);
      finishStagedImage(shape, layout, images, index);
      finishStagedLabelMap(shape, labels, index);
      assert.deepEqual(float32Bytes(images), float32Bytes(expected));
      assert.deepEqual(float32Bytes(labels), float32Bytes(expectedLabels));
    }), { numRuns: 300 });
  });

  test('pixels decoded straight into the staging view are not copied again and convert the same', () => {
    fc.assert(fc.property(sample, ({ width, height, places, seed, mean, rgb }) => {
      const layout = layoutOf({ mean_color1: mean[0], mean_color2: mean[1], mean_color3: mean[2], bgr2rgb: rgb });
      const per = width * height * 3;
      const index = places - 1;
      const images = new Float32Array(new SharedArrayBuffer(per * places * 4));
      const view = stagingView(images, index, per);
      view.set(patternBytes(per, seed));
      const image: Image = { width, height, channels: 3, data: view };
      const expected = new Float32Array(per * places);
      writeImage({ ...image, data: view.slice() }, layout, expected, index);
      assert.equal(stageImage(image, layout, images, index), true);
      finishStagedImage(sampleShapeOf(image, undefined, layout), layout, images, index);
      assert.deepEqual(float32Bytes(images), float32Bytes(expected));
    }), { numRuns: 100 });
  });

  test('dtype uint8: stage + finish = writeImage (the channel order only), other places untouched', () => {
    fc.assert(fc.property(sample, fc.nat(), ({ width, height, places, seed, rgb }, at) => {
      const index = at % places;
      const { layout, image, per, expected } = referenceUint8Sample({ width, height, places, index, seed, rgb, fill: 7 });
      const images = new Uint8Array(new SharedArrayBuffer(per * places)).fill(7);
      assert.equal(stageImage(image, layout, images, index), true);
      finishStagedImage(sampleShapeOf(image, undefined, layout), layout, images, index);
      assert.deepEqual(images, expected);
    }), { numRuns: 200 });
  });

  test('batch 1 places: the staging view is the whole tensor, the sample may be smaller', () => {
    const layout = layoutOf({});
    const images = new Float32Array(new SharedArrayBuffer(4 * 5 * 5 * 3));
    assert.equal(stagingView(images, 0, undefined).length, images.byteLength);
    const image: Image = { width: 3, height: 2, channels: 3, data: patternBytes(18, 9) };
    const expected = new Float32Array(images.length);
    writeImage(image, layout, expected, 0);
    assert.equal(stageImage(image, layout, images, 0), true);
    finishStagedImage(sampleShapeOf(image, undefined, layout), layout, images, 0);
    assert.deepEqual([...images.subarray(0, 18)], [...expected.subarray(0, 18)]);
  });

  test('layouts that are not staged are declined and left unwritten', () => {
    const image: Image = { width: 2, height: 2, channels: 3, data: patternBytes(12, 1) };
    const grey: Image = { width: 2, height: 2, channels: 1, data: patternBytes(4, 2) };
    const floatLabel: Image = { width: 2, height: 2, channels: 1, data: new Float32Array(4).fill(0.5) };
    const images = new Float32Array(12).fill(-1);
    assert.equal(stageImage(image, layoutOf({ order: 'NCHW' }), images, 0), false);
    assert.equal(stageImage(grey, layoutOf({}), images, 0), false);
    assert.equal(stageImage(image, layoutOf({}), images, 1), false, 'place past the tensor');
    assert.deepEqual([...images], new Array(12).fill(-1));
    const labels = new Float32Array(4).fill(-1);
    assert.equal(stageLabelMap(grey, layoutOf({ annotate: 'auto' }), labels, 0), false);
    assert.equal(stageLabelMap(grey, layoutOf({ annotate: 'json', onehot: 3 }), labels, 0), false);
    assert.equal(stageLabelMap(grey, layoutOf({ annotate: 'json', order: 'NCHW' }), labels, 0), false);
    assert.equal(stageLabelMap(floatLabel, layoutOf({ annotate: 'json' }), labels, 0), false);
    assert.deepEqual([...labels], [-1, -1, -1, -1]);
  });
});
