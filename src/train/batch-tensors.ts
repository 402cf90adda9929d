// The one adapter from augment batches (ImageStream, NHWC float32 with the mean already
// subtracted, per-pixel label maps) to TensorFlow.js tensors: x = images · inputScale,
// y = foreground mask (label > 0) as [B, H, W, 1] for the sigmoid loss, or one-hot
// [B, H, W, 2] (background, foreground) for softmax. Padding samples (count..B-1) are dropped.
import type * as tfTypes from '@tensorflow/tfjs';
import type { Batch } from '../augment/stream/stream.ts';
import { invalidParameterError } from '../errors.ts';
import { tf } from './backend.ts';

export interface TensorBatch {
  x: tfTypes.Tensor4D;
  /** Undefined when the batch carries no per-pixel labels. */
  y: tfTypes.Tensor4D | undefined;
  /** 0/1 foreground mask of the real samples, [count·H·W] (for metrics without a download). */
  mask: Uint8Array | undefined;
  count: number;
}

export interface BatchTensorOptions {
  inputScale: number;
  loss: 'sigmoid' | 'softmax';
}

/** The tensors own their data (computed from the batch, not views of it): the batch may be released after. */
export function batchToTensors(batch: Batch, options: BatchTensorOptions): TensorBatch {
  const [B, H, W, C] = batch.imageShape;
  if (batch.imageShape.length !== 4 || (batch.images instanceof Float32Array) === false) {
    throw invalidParameterError('batch', 'NHWC float32 images (order NHWC, dtype float32)', batch.imageShape.join('×'));
  }
  const count = batch.count;
  const pixels = H * W;
  const images = count === B ? batch.images : batch.images.subarray(0, count * pixels * C);
  const x = tf.tidy(() => tf.tensor4d(images as Float32Array, [count, H, W, C]).mul(options.inputScale)) as tfTypes.Tensor4D;
  if (batch.labelShape.length !== 4) return { x, y: undefined, mask: undefined, count };
  const labelChannels = batch.labelShape[3];
  const mask = new Uint8Array(count * pixels);
  for (let i = 0; i < mask.length; i++) mask[i] = batch.labels[i * labelChannels] > 0 ? 1 : 0;
  let y: tfTypes.Tensor4D;
  if (options.loss === 'sigmoid') {
    y = tf.tensor4d(Float32Array.from(mask), [count, H, W, 1]);
  } else {
    const oneHot = new Float32Array(mask.length * 2);
    for (let i = 0; i < mask.length; i++) oneHot[i * 2 + mask[i]] = 1;
    y = tf.tensor4d(oneHot, [count, H, W, 2]);
  }
  return { x, y, mask, count };
}

/** Foreground probability [B, H, W, 1] from the network's logits. */
export function foregroundProbability(logits: tfTypes.Tensor4D, loss: 'sigmoid' | 'softmax'): tfTypes.Tensor4D {
  return tf.tidy(() => {
    if (loss === 'sigmoid') return tf.sigmoid(logits) as tfTypes.Tensor4D;
    return tf.softmax(logits).slice([0, 0, 0, 1], [-1, -1, -1, 1]) as tfTypes.Tensor4D;
  });
}

/** Mean per-pixel loss of logits against targets from batchToTensors. */
export function pixelLoss(logits: tfTypes.Tensor4D, y: tfTypes.Tensor4D, loss: 'sigmoid' | 'softmax'): tfTypes.Scalar {
  return tf.tidy(() => {
    if (loss === 'sigmoid') return tf.losses.sigmoidCrossEntropy(y, logits) as tfTypes.Scalar;
    return tf.losses.softmaxCrossEntropy(y, logits) as tfTypes.Scalar;
  });
}
