// Metrics on synthetic heat maps with hand-computed answers: connected components (8-connected),
// box IoU, pixel precision/recall/IoU, box recall / precision / mean IoU, XNN's score
// (REFERENCE §2.3.3), the mean-box baseline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsAccumulator, boxIou, connectedComponents, heatMapBoxes, meanBox } from '../../src/train/evaluate.ts';
import { meanBoxBaseline } from '../../src/train/validate.ts';

/** A W×H map with value `v` inside each rect [x, y, w, h], `background` elsewhere. */
function paint(W: number, H: number, rects: [number, number, number, number, number][], background = 0): Float32Array {
  const out = new Float32Array(W * H).fill(background);
  for (const [x0, y0, w, h, v] of rects) for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) out[y * W + x] = v;
  return out;
}

test('connected components: 8-connectivity joins diagonal pixels; minArea drops specks', () => {
  const W = 6;
  const mask = new Uint8Array([
    1, 0, 0, 0, 0, 0,
    0, 1, 0, 0, 1, 1,
    0, 0, 0, 0, 1, 1,
    0, 0, 0, 0, 0, 0,
    0, 0, 1, 0, 0, 0,
  ]);
  assert.deepEqual(connectedComponents(mask, W, 5), [
    { x: 0, y: 0, width: 2, height: 2 },
    { x: 4, y: 1, width: 2, height: 2 },
    { x: 2, y: 4, width: 1, height: 1 },
  ]);
  assert.deepEqual(connectedComponents(mask, W, 5, { minArea: 2 }).length, 2);
  assert.deepEqual(connectedComponents(new Uint8Array(12), 4, 3), []);
});

test('box IoU', () => {
  assert.equal(boxIou({ x: 0, y: 0, width: 10, height: 10 }, { x: 0, y: 0, width: 10, height: 10 }), 1);
  assert.equal(boxIou({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 }), 50 / 150);
  assert.equal(boxIou({ x: 0, y: 0, width: 10, height: 10 }, { x: 10, y: 0, width: 10, height: 10 }), 0);
  assert.equal(boxIou({ x: 0, y: 0, width: 4, height: 4 }, { x: 1, y: 1, width: 2, height: 2 }), 4 / 16);
});

test('a perfect heat map: all metrics 1, XNN score = the object share of the image', () => {
  const W = 20;
  const H = 10;
  const mask = paint(W, H, [[2, 2, 5, 4, 1], [12, 3, 6, 5, 1]]);
  const acc = new MetricsAccumulator();
  const { predicted, truth } = acc.add(mask, mask, W, H);
  assert.deepEqual(predicted, truth);
  const m = acc.result();
  assert.deepEqual([m.pixelPrecision, m.pixelRecall, m.pixelIou, m.boxRecall, m.boxPrecision, m.meanBoxIou], [1, 1, 1, 1, 1, 1]);
  assert.equal(m.xnnScore, (20 + 30) / 200);
  assert.deepEqual([m.images, m.trueBoxes, m.predictedBoxes], [1, 2, 2]);
});

test('a shifted, partial heat map: hand-computed pixel and box metrics', () => {
  const W = 20;
  const H = 10;
  const truth = paint(W, H, [[0, 0, 10, 10, 1], [15, 0, 5, 2, 1]]); // 100 + 10 object pixels
  const prob = paint(W, H, [[5, 0, 10, 10, 0.9]], 0.1); // one box shifted by 5; the small object missed
  const acc = new MetricsAccumulator();
  acc.add(prob, truth, W, H);
  const m = acc.result();
  assert.equal(m.pixelPrecision, 50 / 100);
  assert.equal(m.pixelRecall, 50 / 110);
  assert.equal(m.pixelIou, 50 / 160);
  assert.equal(m.trueBoxes, 2);
  assert.equal(m.predictedBoxes, 1);
  assert.equal(m.meanBoxIou, (50 / 150 + 0) / 2);
  assert.equal(m.boxRecall, 0);
  assert.equal(m.boxPrecision, 0);
  // Flagged at the first threshold with bg prob ≤ t: t = 0.1 flags the 100 pixels at 0.9
  // (recall 50/110 ≤ 0.5), t = 0.9 flags everything (recall 1): score = 1.
  assert.equal(m.xnnScore, 1);
});

test('XNN score: graded probabilities, curves averaged over images with objects', () => {
  const W = 10;
  const H = 10;
  const truth = paint(W, H, [[0, 0, 10, 2, 1]]); // 20 object pixels
  // 10 object pixels at 0.9, 10 at 0.6, background 0.3.
  const prob = paint(W, H, [[0, 0, 10, 1, 0.9], [0, 1, 10, 1, 0.6]], 0.3);
  const acc = new MetricsAccumulator();
  acc.add(prob, truth, W, H);
  // recall reaches 0.5 (not > 0.5) at 10 flagged pixels; > 0.5 only once the 0.6 row is in: 20/100.
  assert.equal(acc.result().xnnScore, 0.2);
  // An image without objects adds to the pixel counts but not to the curve.
  acc.add(new Float32Array(W * H).fill(0.95), new Float32Array(W * H), W, H);
  assert.equal(acc.result().xnnScore, 0.2);
  assert.equal(acc.result().images, 2);
  const curve = acc.curve();
  assert.equal(curve.x.length, 1001);
  assert.equal(curve.y.at(-1), 1);
});

test('heatMapBoxes: threshold and the default minimum area', () => {
  const W = 100;
  const H = 100;
  const prob = paint(W, H, [[10, 10, 20, 5, 0.8], [50, 50, 3, 3, 0.8], [70, 70, 10, 10, 0.4]]);
  assert.deepEqual(heatMapBoxes(prob, W, H), [{ x: 10, y: 10, width: 20, height: 5 }]); // 9 px < 10 px minimum
  assert.equal(heatMapBoxes(prob, W, H, { threshold: 0.3 }).length, 2);
  assert.equal(heatMapBoxes(prob, W, H, { minArea: 1 }).length, 2);
});

test('mean-box baseline: the mean training box against the validation boxes', () => {
  const train = [[{ x: 0.1, y: 0.1, width: 0.2, height: 0.2 }], [{ x: 0.3, y: 0.3, width: 0.2, height: 0.2 }]];
  assert.deepEqual(meanBox(train.flat()), { x: 0.2, y: 0.2, width: 0.2, height: 0.2 });
  const validation = [[{ x: 0.2, y: 0.2, width: 0.2, height: 0.2 }], [{ x: 0.3, y: 0.2, width: 0.2, height: 0.2 }, { x: 0.7, y: 0.7, width: 0.1, height: 0.1 }]];
  const { metrics, box } = meanBoxBaseline(train, validation);
  assert.deepEqual(box, { x: 0.2, y: 0.2, width: 0.2, height: 0.2 });
  assert.ok(Math.abs(metrics.meanBoxIou - (1 + 1 / 3 + 0) / 3) < 1e-9);
  assert.ok(Math.abs(metrics.boxRecall - 1 / 3) < 1e-9);
  assert.equal(metrics.trueBoxes, 3);
});
