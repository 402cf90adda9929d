// The wasm gradient kernels (src/train/wasm-kernels.ts) against the cpu backend as the oracle:
// gradients of conv2d (→ Conv2DBackpropFilter, Conv2DBackpropInput) and conv2dTranspose on
// small shapes over strides, paddings (same, valid, explicit) and non-square kernels
// (REFERENCE §4.4). Dilated convolutions have no gradient in tfjs on either backend.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/train/backend.ts';
import { WASM_GRADIENT_KERNELS } from '../../src/train/wasm-kernels.ts';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = s / 2147483648 - 0.5;
  }
  return out;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

async function convGrads(backend: string, xShape: number[], wShape: number[], strides: [number, number], pad: Pad): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const x = tf.tensor4d(values(size(xShape), 1), xShape as [number, number, number, number]);
  const w = tf.tensor4d(values(size(wShape), 2), wShape as [number, number, number, number]);
  // A weighted sum makes every output element's gradient different.
  const g = tf.grads((...[a, b]: tf.Tensor[]) => {
    const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad);
    return y.mul(tf.tensor(values(y.size, 3), y.shape)).sum();
  });
  const grads = g([x, w]);
  const out = [await grads[0].data() as Float32Array, await grads[1].data() as Float32Array];
  tf.dispose([x, w, ...grads]);
  return out;
}

async function transposeGrads(backend: string, xShape: number[], wShape: number[], stride: number, pad: 'same' | 'valid'): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const x = tf.tensor4d(values(size(xShape), 4), xShape as [number, number, number, number]);
  const w = tf.tensor4d(values(size(wShape), 5), wShape as [number, number, number, number]);
  const [B, H, W] = xShape;
  const outShape: [number, number, number, number] = pad === 'same'
    ? [B, H * stride, W * stride, wShape[2]]
    : [B, (H - 1) * stride + wShape[0], (W - 1) * stride + wShape[1], wShape[2]];
  const g = tf.grads((...[a, b]: tf.Tensor[]) => {
    const y = tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, outShape, stride, pad);
    return y.mul(tf.tensor(values(y.size, 6), y.shape)).sum();
  });
  const grads = g([x, w]);
  const out = [await grads[0].data() as Float32Array, await grads[1].data() as Float32Array];
  tf.dispose([x, w, ...grads]);
  return out;
}

function assertClose(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, label);
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= 1e-5 * Math.max(1, scale), `${label}[${i}]: wasm ${actual[i]} vs cpu ${expected[i]}`);
  }
}

const CONV_CASES: { x: number[]; w: number[]; s: [number, number]; pad: Pad }[] = [
  { x: [2, 9, 9, 3], w: [3, 3, 3, 4], s: [1, 1], pad: 'same' },
  { x: [2, 9, 9, 3], w: [3, 3, 3, 4], s: [2, 2], pad: 'same' },
  { x: [1, 10, 11, 2], w: [5, 5, 2, 3], s: [2, 2], pad: 'valid' },
  { x: [2, 8, 8, 3], w: [4, 4, 3, 2], s: [3, 3], pad: 'same' },
  { x: [1, 7, 7, 2], w: [1, 1, 2, 3], s: [1, 1], pad: 'valid' },
  { x: [1, 8, 9, 2], w: [3, 2, 2, 2], s: [1, 2], pad: 'same' },
  { x: [1, 8, 8, 2], w: [3, 3, 2, 2], s: [1, 1], pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
  { x: [1, 9, 9, 1], w: [5, 5, 1, 2], s: [1, 1], pad: 'valid' },
];

describe('wasm gradient kernels match the cpu backend', () => {
  before(async () => {
    const info = await initBackend({ backend: 'wasm' });
    assert.equal(info.name, 'wasm');
    assert.deepEqual(info.registeredKernels, [...WASM_GRADIENT_KERNELS]);
  });

  for (const c of CONV_CASES) {
    test(`conv2d x ${c.x.join('×')} filter ${c.w.join('×')} strides ${c.s.join(',')} pad ${JSON.stringify(c.pad)}`, async () => {
      const cpu = await convGrads('cpu', c.x, c.w, c.s, c.pad);
      const wasm = await convGrads('wasm', c.x, c.w, c.s, c.pad);
      assertClose(wasm[0], cpu[0], 'dx (Conv2DBackpropInput)');
      assertClose(wasm[1], cpu[1], 'dW (Conv2DBackpropFilter)');
    });
  }

  for (const [stride, pad, k] of [[16, 'same', 32], [2, 'same', 4], [2, 'valid', 3], [1, 'same', 3]] as const) {
    test(`conv2dTranspose kernel ${k} stride ${stride} pad ${pad}`, async () => {
      const xShape = [2, 3, 3, 2];
      const wShape = [k, k, 3, 2];
      const cpu = await transposeGrads('cpu', xShape, wShape, stride, pad);
      const wasm = await transposeGrads('wasm', xShape, wShape, stride, pad);
      assertClose(wasm[0], cpu[0], 'dx');
      assertClose(wasm[1], cpu[1], 'dW');
    });
  }

  for (const [k, stride, pad] of [[2, 2, 'valid'], [2, 2, 'same'], [3, 2, 'same'], [3, 1, 'valid'], [3, 2, 'valid']] as const) {
    test(`maxPool gradient (MaxPoolGrad) pool ${k} stride ${stride} pad ${pad}, with ties`, async () => {
      const grads: Float32Array[] = [];
      for (const backend of ['cpu', 'wasm']) {
        await tf.setBackend(backend);
        // Quantised values make ties common: the first maximum in scan order must win on both.
        const x = tf.tensor4d(values(2 * 9 * 7 * 3, 11).map((v) => Math.round(v * 4)), [2, 9, 7, 3]);
        const g = tf.grad((a: tf.Tensor) => {
          const y = tf.maxPool(a as tf.Tensor4D, k, stride, pad);
          return y.mul(tf.tensor(values(y.size, 12), y.shape)).sum();
        });
        const dx = g(x);
        grads.push(await dx.data() as Float32Array);
        tf.dispose([x, dx]);
      }
      assertClose(grads[1], grads[0], 'dx');
    });
  }

  test('dilated convolutions have no gradient in tfjs, on either backend', async () => {
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const x = tf.ones([1, 8, 8, 1]) as tf.Tensor4D;
      const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
      // The forward pass works (and agrees) …
      assert.equal(tf.conv2d(x, w, 1, 'same', 'NHWC', 2).sum().dataSync()[0], 400);
      // … the gradient is refused by tfjs-core before any kernel runs.
      assert.throws(() => tf.grads((...[a, b]: tf.Tensor[]) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same', 'NHWC', 2).sum())([x, w]), /dilation/);
      tf.dispose([x, w]);
    }
    await tf.setBackend('wasm');
  });

  test('a training step of fcn-tiny gives the same loss on wasm and cpu', async () => {
    const { buildModel, TEMPLATES } = await import('../../src/train/templates.ts');
    const losses: number[] = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const model = buildModel(tf, TEMPLATES['fcn-tiny'], { height: 16, width: 16, channels: 3, classes: 1, seed: 7 });
      const optimizer = tf.train.sgd(0.1);
      const x = tf.tensor4d(values(2 * 16 * 16 * 3, 9), [2, 16, 16, 3]);
      const y = tf.tensor4d(values(2 * 16 * 16, 10).map((v) => (v > 0.3 ? 1 : 0)), [2, 16, 16, 1]);
      const step = () => optimizer.minimize(() => tf.losses.sigmoidCrossEntropy(y, model.apply(x) as tf.Tensor4D) as tf.Scalar, true)!;
      step().dispose();
      const second = step();
      losses.push(second.dataSync()[0]);
      tf.dispose([second, x, y]);
      model.dispose();
      optimizer.dispose();
    }
    assert.ok(Math.abs(losses[0] - losses[1]) < 1e-5, `cpu ${losses[0]} vs wasm ${losses[1]}`);
  });
});
