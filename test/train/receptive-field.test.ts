// Receptive-field arithmetic (REFERENCE §2.4) on known nets with hand-computed answers: XNN's
// fcn (95 px at stride 16), dilation, pooling with default strides, transposed convolutions and
// upsampling (the decoder does not count for the narrowest layer), branching graphs, non-square
// kernels, and tfjs Layers model.json parsing (Sequential and functional).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReceptiveField, parseLayersModelJson, receptiveField, templateLayers } from '../../src/train/receptive-field.ts';
import type { RfLayer } from '../../src/train/receptive-field.ts';
import { TEMPLATES } from '../../src/train/templates.ts';

function layer(name: string, type: RfLayer['type'], inputs: string[], k = 1, s = 1, d = 1, padding: 'same' | 'valid' = 'same'): RfLayer {
  const className = { input: 'InputLayer', conv: 'Conv2D', pool: 'MaxPooling2D', deconv: 'Conv2DTranspose', upsample: 'UpSampling2D', merge: 'Add', global: 'GlobalAveragePooling2D', crop: 'Cropping2D', pad: 'ZeroPadding2D', other: 'Activation' }[type];
  return { name, className, type, kernel: [k, k], stride: [s, s], dilation: [d, d], padding, inputs, ...(type === 'input' ? { inputSize: [64, 64] as [number, number] } : {}) };
}

/** A functional tfjs model.json layer entry. */
function fn(className: string, name: string, inbound: string[], config: Record<string, unknown> = {}) {
  return { class_name: className, name, config: { name, ...config }, inbound_nodes: inbound.length === 0 ? [] : [inbound.map((i) => [i, 0, 0, {}])] };
}

describe('receptive field', () => {
  test('XNN fcn: 95 px at stride 16 at the score layer (§2.4 worked example)', () => {
    const result = receptiveField(templateLayers(TEMPLATES.fcn, [256, 256]));
    assert.equal(result.narrowest, 'score');
    assert.deepEqual(result.rf, [95, 95]);
    assert.deepEqual(result.jump, [16, 16]);
    assert.deepEqual(result.rows.map((r) => r.rf[0]), [1, 5, 7, 23, 31, 63, 95, 95, 126]);
    assert.deepEqual(result.rows.map((r) => r.jump[0]), [1, 2, 4, 8, 16, 16, 16, 16, 1]);
    assert.deepEqual(result.rows.map((r) => r.outputSize[0]), [256, 128, 64, 32, 16, 16, 16, 16, 256]);
    const text = formatReceptiveField(result);
    assert.match(text, /receptive field of the narrowest layer \(score, \*\): 95 px at stride 16/);
    assert.match(text, /^score \* +Conv2D/m);
  });

  test('fcn-tiny: 78 px at stride 16', () => {
    const result = receptiveField(templateLayers(TEMPLATES['fcn-tiny'], [128, 128]));
    assert.deepEqual([result.narrowest, result.rf[0], result.jump[0]], ['score', 78, 16]);
  });

  test('dilation: 3×3 convs with dilation 1, 2, 4 (valid) see 15 px at stride 1', () => {
    const result = receptiveField([
      layer('in', 'input', []), layer('c1', 'conv', ['in'], 3, 1, 1, 'valid'), layer('c2', 'conv', ['c1'], 3, 1, 2, 'valid'), layer('c3', 'conv', ['c2'], 3, 1, 4, 'valid'),
    ], { inputSize: [32, 32] });
    assert.deepEqual(result.rows.map((r) => r.rf[0]), [1, 3, 7, 15]);
    assert.deepEqual(result.rows.map((r) => r.outputSize[0]), [32, 30, 26, 18]);
    assert.deepEqual([result.narrowest, result.rf[0], result.jump[0]], ['c3', 15, 1]);
  });

  test('pooling: model.json MaxPooling2D without strides uses the pool size; non-square kernels per axis', () => {
    const json = {
      modelTopology: {
        class_name: 'Sequential',
        config: { name: 's', layers: [
          { class_name: 'Conv2D', config: { name: 'c1', kernel_size: [3, 5], strides: [1, 1], dilation_rate: [1, 1], padding: 'valid', batch_input_shape: [null, 30, 30, 3] } },
          { class_name: 'MaxPooling2D', config: { name: 'p1', pool_size: [3, 3], strides: null, padding: 'valid' } },
          { class_name: 'Activation', config: { name: 'relu' } },
          { class_name: 'Conv2D', config: { name: 'c2', kernel_size: 3, strides: 1, padding: 'same' } },
        ] },
      },
    };
    const result = receptiveField(parseLayersModelJson(json));
    const rows = Object.fromEntries(result.rows.map((r) => [r.name, r]));
    assert.deepEqual(rows.c1.rf, [3, 5]);
    assert.deepEqual(rows.c1.outputSize, [28, 26]);
    assert.deepEqual(rows.p1.rf, [5, 7]);
    assert.deepEqual(rows.p1.jump, [3, 3]);
    assert.deepEqual(rows.p1.outputSize, [9, 8]);
    assert.deepEqual(rows.relu.rf, [5, 7]);
    assert.deepEqual(result.rf, [11, 13]);
    assert.equal(result.narrowest, 'c2');
  });

  test('transposed convolution and upsampling: the narrowest layer is the last before the decoder', () => {
    const result = receptiveField([
      layer('in', 'input', []), layer('e1', 'conv', ['in'], 3, 2), layer('e2', 'conv', ['e1'], 3, 2),
      layer('up', 'upsample', ['e2'], 1, 2), layer('d1', 'conv', ['up'], 3), layer('d2', 'deconv', ['d1'], 4, 2),
    ]);
    assert.deepEqual([result.narrowest, result.rf[0], result.jump[0]], ['e2', 7, 4]);
    const rows = Object.fromEntries(result.rows.map((r) => [r.name, r]));
    assert.deepEqual([rows.up.rf[0], rows.up.jump[0], rows.up.outputSize[0]], [7, 2, 32]);
    assert.deepEqual([rows.d1.rf[0], rows.d1.jump[0], rows.d1.decoder], [11, 2, true]);
    assert.deepEqual([rows.d2.rf[0], rows.d2.jump[0], rows.d2.outputSize[0]], [14, 1, 64]);
  });

  test('branching (functional model.json): a merge takes the largest receptive field of its inputs', () => {
    const json = {
      format: 'layers-model',
      modelTopology: {
        class_name: 'Functional',
        config: {
          name: 'branchy',
          layers: [
            fn('InputLayer', 'x', [], { batch_input_shape: [null, 64, 64, 3] }),
            fn('Conv2D', 'a1', ['x'], { kernel_size: [3, 3], strides: [1, 1], padding: 'same' }),
            fn('Conv2D', 'a2', ['a1'], { kernel_size: [3, 3], strides: [1, 1], padding: 'same' }),
            fn('Conv2D', 'b1', ['x'], { kernel_size: [5, 5], strides: [1, 1], padding: 'same' }),
            fn('Conv2D', 'b2', ['b1'], { kernel_size: [5, 5], strides: [1, 1], padding: 'same' }),
            fn('Add', 'sum', ['a2', 'b2']),
            fn('MaxPooling2D', 'pool', ['sum'], { pool_size: [2, 2], strides: [2, 2], padding: 'valid' }),
            fn('Conv2D', 'head', ['pool'], { kernel_size: [3, 3], strides: [1, 1], padding: 'same' }),
          ],
        },
      },
    };
    const result = receptiveField(parseLayersModelJson(json));
    const rows = Object.fromEntries(result.rows.map((r) => [r.name, r]));
    assert.equal(rows.a2.rf[0], 5);
    assert.equal(rows.b2.rf[0], 9);
    assert.equal(rows.sum.rf[0], 9);
    assert.deepEqual([rows.pool.rf[0], rows.pool.jump[0], rows.pool.outputSize[0]], [10, 2, 32]);
    assert.deepEqual([result.narrowest, result.rf[0], result.jump[0]], ['head', 14, 2]);
    assert.deepEqual(result.warnings, []);
  });

  test('a merge of different strides warns and keeps the larger bound', () => {
    const result = receptiveField([
      layer('in', 'input', []), layer('s2', 'conv', ['in'], 3, 2), layer('s4', 'pool', ['s2'], 2, 2), layer('cat', 'merge', ['s2', 's4']), layer('c', 'conv', ['cat'], 3),
    ]);
    assert.equal(result.rows.find((r) => r.name === 'cat')!.rf[0], 5);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0], /cat: inputs have different strides/);
    assert.deepEqual(result.rf, [13, 13]);
  });

  test('global pooling sees the whole input; padding and cropping change sizes only', () => {
    const result = receptiveField([
      layer('in', 'input', []), { ...layer('pad', 'pad', ['in']), margins: [2, 2, 2, 2] }, layer('c', 'conv', ['pad'], 3, 1, 1, 'valid'),
      { ...layer('crop', 'crop', ['c']), margins: [1, 1, 0, 0] }, layer('g', 'global', ['crop']),
    ]);
    const rows = Object.fromEntries(result.rows.map((r) => [r.name, r]));
    assert.deepEqual(rows.pad.outputSize, [68, 68]);
    assert.deepEqual(rows.c.outputSize, [66, 66]);
    assert.deepEqual(rows.crop.outputSize, [64, 66]);
    assert.deepEqual(rows.g.rf, [64, 64]);
    assert.deepEqual(result.rf, [3, 3]);
  });

  test('errors: unknown input, cycle, no spatial layer, not a model.json', () => {
    assert.throws(() => receptiveField([layer('c', 'conv', ['nowhere'], 3)]), /unknown input nowhere/);
    assert.throws(() => receptiveField([layer('a', 'conv', ['b'], 3), layer('b', 'conv', ['a'], 3)]), /cycle/);
    assert.throws(() => receptiveField([layer('in', 'input', []), layer('u', 'upsample', ['in'], 1, 2), layer('c', 'conv', ['u'], 3)]), /no convolution/);
    assert.throws(() => parseLayersModelJson({ hello: 1 }), /not a tfjs Layers model.json/);
  });

  test('a model.json saved by tfjs (the fcn-tiny Sequential) parses to the template answer', async () => {
    const { initBackend, tf } = await import('../../src/train/backend.ts');
    await initBackend({ backend: 'cpu' });
    const { buildModel } = await import('../../src/train/templates.ts');
    const model = buildModel(tf, TEMPLATES['fcn-tiny'], { height: 32, width: 32, channels: 3, classes: 2, seed: 1 });
    const topology = model.toJSON(null, false);
    model.dispose();
    const result = receptiveField(parseLayersModelJson({ modelTopology: topology }));
    assert.deepEqual([result.narrowest, result.rf[0], result.jump[0]], ['score', 78, 16]);
    assert.deepEqual(result.rows[0].outputSize, [32, 32]);
    assert.deepEqual(result.rows.at(-1)!.outputSize, [32, 32]);
  });
});
