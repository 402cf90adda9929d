// Run a model over the validation fold (a non-looping, unperturbed stream, split negated) and
// score it with evaluate.ts; also the trivial baseline (one fixed box per image: the mean
// ground-truth box of the training fold, in fractions of the image).
import type * as tfTypes from '@tensorflow/tfjs';
import { ImageStream } from '../augment/stream/stream.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { StreamConfigInput } from '../augment/config.ts';
import { tf } from './backend.ts';
import { batchToTensors, foregroundProbability, pixelLoss } from './batch-tensors.ts';
import { MetricsAccumulator, connectedComponents, meanBox, scaleBox } from './evaluate.ts';
import type { Box, EvalMetrics } from './evaluate.ts';
import type { ModelMeta } from './model-io.ts';

export interface ValidationResult {
  metrics: EvalMetrics;
  loss: number;
  /** The averaged XNN curve (x: share flagged, y: object recall). */
  curve: { x: number[]; y: number[] };
  seconds: number;
}

/** Score `model` on the stream `config` (the caller passes the validation-side config). */
export async function validateModel(model: tfTypes.LayersModel, meta: Pick<ModelMeta, 'inputScale' | 'loss'>, db: string, config: StreamConfigInput): Promise<ValidationResult> {
  const started = performance.now();
  const stream = await ImageStream.open(db, config);
  const acc = new MetricsAccumulator();
  let lossSum = 0;
  let lossCount = 0;
  try {
    for (;;) {
      const batch = await stream.next();
      if (batch === null) break;
      const t = batchToTensors(batch, { inputScale: meta.inputScale, loss: meta.loss });
      stream.release(batch); // the tensors own copies: the stream may reuse the batch's memory
      const [H, W] = [batch.imageShape[1], batch.imageShape[2]];
      const [probData, lossValue] = tf.tidy(() => {
        const logits = model.predict(t.x) as tfTypes.Tensor4D;
        const prob = foregroundProbability(logits, meta.loss);
        const loss = t.y ? pixelLoss(logits, t.y, meta.loss) : tf.scalar(0);
        return [prob.dataSync() as Float32Array, loss.dataSync()[0]];
      });
      tf.dispose([t.x, t.y]);
      lossSum += lossValue * t.count;
      lossCount += t.count;
      if (t.mask === undefined) continue;
      for (let b = 0; b < t.count; b++) {
        acc.add(probData.subarray(b * H * W, (b + 1) * H * W), t.mask.subarray(b * H * W, (b + 1) * H * W), W, H);
      }
    }
  } finally {
    await stream.close();
  }
  return { metrics: acc.result(), loss: lossCount === 0 ? Number.NaN : lossSum / lossCount, curve: acc.curve(), seconds: (performance.now() - started) / 1000 };
}

/** Ground-truth boxes per image of a stream, in fractions of the image. */
export async function truthBoxes(db: string, config: StreamConfigInput): Promise<Box[][]> {
  const stream = await ImageStream.open(db, config);
  const out: Box[][] = [];
  try {
    for (;;) {
      const batch = await stream.next();
      if (batch === null) break;
      const [, H, W, C] = batch.labelShape;
      for (let b = 0; b < batch.count; b++) {
        const mask = new Uint8Array(H * W);
        for (let i = 0; i < H * W; i++) mask[i] = batch.labels[(b * H * W + i) * C] > 0 ? 1 : 0;
        out.push(connectedComponents(mask, W, H).map((box) => ({ x: box.x / W, y: box.y / H, width: box.width / W, height: box.height / H })));
      }
    }
  } finally {
    await stream.close();
  }
  return out;
}

/**
 * The trivial baseline: predict the training fold's mean box in every validation image.
 * Returns its box metrics (pixel and XNN fields are not meaningful for it) and the box used.
 */
export function meanBoxBaseline(trainBoxes: Box[][], validationBoxes: Box[][], size = 1000): { metrics: EvalMetrics; box: Box } {
  const box = meanBox(trainBoxes.flat());
  const acc = new MetricsAccumulator();
  const guess = scaleBox(box, size, size);
  for (const truth of validationBoxes) acc.addBoxes([guess], truth.map((t) => scaleBox(t, size, size)));
  return { metrics: acc.result(), box };
}

/**
 * The trivial baseline of a training workspace: the mean true box of its training folds
 * (unperturbed) predicted in every image of its validation fold.
 */
export async function workspaceBaseline(ws: string): Promise<{ metrics: EvalMetrics; box: Box }> {
  const file = JSON.parse(await readFile(path.join(ws, 'params.json'), 'utf8')) as { params: { db: string }; streams: { validation: Record<string, unknown> | null } };
  const validation = file.streams.validation;
  if (validation === null) throw new Error('the run has no validation fold (split 1): no baseline');
  const train = await truthBoxes(file.params.db, { ...validation, split_negate: false });
  const held = await truthBoxes(file.params.db, validation);
  return meanBoxBaseline(train, held);
}
