// Localization metrics of a heat map against a ground-truth mask (pure, no TensorFlow.js):
// - per-pixel precision / recall / IoU at a threshold, summed over all images;
// - boxes = bounding boxes of the 8-connected components of the thresholded map (ground truth:
//   of the mask); box recall = share of true boxes matched by a predicted box with IoU ≥ 0.5,
//   mean box IoU = mean over true boxes of the best IoU with any predicted box (0 if none),
//   box precision = share of predicted boxes with IoU ≥ 0.5 against some true box;
// - XNN's score (REFERENCE §2.3.3): pixels sorted by foreground probability, for thresholds
//   i/N (N = 1000) x = share of pixels flagged and y = recall of object pixels, curves averaged
//   over images that contain object pixels; the score is the smallest x with y > 0.5 — the
//   fraction of the image that must be flagged to recover half the object. Lower is better.

export interface Box {
  /** Pixels: left, top (inclusive), width, height. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface EvalMetrics {
  images: number;
  threshold: number;
  pixelPrecision: number;
  pixelRecall: number;
  pixelIou: number;
  trueBoxes: number;
  predictedBoxes: number;
  boxRecall: number;
  boxPrecision: number;
  meanBoxIou: number;
  xnnScore: number;
}

export const XNN_CURVE_POINTS = 1000;

/**
 * Bounding boxes of the 8-connected components of `mask` (non-zero = set), in scan order of
 * their first pixel. Components smaller than `minArea` pixels are dropped.
 */
export function connectedComponents(mask: ArrayLike<number>, width: number, height: number, options: { minArea?: number } = {}): Box[] {
  const minArea = options.minArea ?? 1;
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const boxes: Box[] = [];
  for (let start = 0; start < width * height; start++) {
    if (mask[start] === 0 || seen[start] === 1) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let area = 0;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    while (top > 0) {
      const p = stack[--top];
      const px = p % width;
      const py = (p - px) / width;
      area++;
      if (px < x0) x0 = px;
      if (px > x1) x1 = px;
      if (py < y0) y0 = py;
      if (py > y1) y1 = py;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = py + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = px + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (mask[q] !== 0 && seen[q] === 0) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    if (area >= minArea) boxes.push({ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 });
  }
  return boxes;
}

export function boxIou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** Predicted boxes of a heat map: components of prob ≥ threshold, at least minArea pixels. */
export function heatMapBoxes(prob: ArrayLike<number>, width: number, height: number, options: { threshold?: number; minArea?: number } = {}): Box[] {
  const threshold = options.threshold ?? 0.5;
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = prob[i] >= threshold ? 1 : 0;
  return connectedComponents(mask, width, height, { minArea: options.minArea ?? defaultMinArea(width, height) });
}

/** Specks below 0.1 % of the image (and 4 px) are not boxes. */
export function defaultMinArea(width: number, height: number): number {
  return Math.max(4, Math.round(width * height * 0.001));
}

/** Accumulates metrics image by image. */
export class MetricsAccumulator {
  readonly threshold: number;
  private images = 0;
  private tp = 0;
  private fp = 0;
  private fn = 0;
  private trueBoxes = 0;
  private predictedBoxes = 0;
  private matchedTrue = 0;
  private matchedPredicted = 0;
  private iouSum = 0;
  private readonly curveX = new Float64Array(XNN_CURVE_POINTS + 1);
  private readonly curveY = new Float64Array(XNN_CURVE_POINTS + 1);
  private curveImages = 0;

  constructor(options: { threshold?: number } = {}) {
    this.threshold = options.threshold ?? 0.5;
  }

  /** One image: foreground probability and 0/1 mask, both width × height. Returns its boxes. */
  add(prob: ArrayLike<number>, mask: ArrayLike<number>, width: number, height: number): { predicted: Box[]; truth: Box[] } {
    const pixels = width * height;
    this.images++;
    for (let i = 0; i < pixels; i++) {
      const p = prob[i] >= this.threshold;
      const t = mask[i] !== 0;
      if (p && t) this.tp++;
      else if (p) this.fp++;
      else if (t) this.fn++;
    }
    const predicted = heatMapBoxes(prob, width, height, { threshold: this.threshold });
    const truth = connectedComponents(mask, width, height);
    this.addBoxes(predicted, truth);
    this.addCurve(prob, mask, pixels);
    return { predicted, truth };
  }

  /** Box statistics only (e.g. a baseline that predicts fixed boxes). */
  addBoxes(predicted: Box[], truth: Box[]): void {
    this.trueBoxes += truth.length;
    this.predictedBoxes += predicted.length;
    for (const t of truth) {
      let best = 0;
      for (const p of predicted) best = Math.max(best, boxIou(t, p));
      this.iouSum += best;
      if (best >= 0.5) this.matchedTrue++;
    }
    for (const p of predicted) if (truth.some((t) => boxIou(t, p) >= 0.5)) this.matchedPredicted++;
  }

  private addCurve(prob: ArrayLike<number>, mask: ArrayLike<number>, pixels: number): void {
    const N = XNN_CURVE_POINTS;
    const all = new Float64Array(N + 1);
    const object = new Float64Array(N + 1);
    let objectTotal = 0;
    for (let i = 0; i < pixels; i++) {
      // Flagged at threshold i/N when background probability 1 - p ≤ i/N.
      const bin = Math.min(N, Math.max(0, Math.ceil((1 - prob[i]) * N - 1e-9)));
      all[bin]++;
      if (mask[i] !== 0) {
        object[bin]++;
        objectTotal++;
      }
    }
    if (objectTotal === 0) return;
    this.curveImages++;
    let flagged = 0;
    let found = 0;
    for (let k = 0; k <= N; k++) {
      flagged += all[k];
      found += object[k];
      this.curveX[k] += flagged / pixels;
      this.curveY[k] += found / objectTotal;
    }
  }

  /** Averaged XNN curve: [x, y] per threshold. */
  curve(): { x: number[]; y: number[] } {
    const n = Math.max(1, this.curveImages);
    return { x: Array.from(this.curveX, (v) => v / n), y: Array.from(this.curveY, (v) => v / n) };
  }

  result(): EvalMetrics {
    const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
    const { x, y } = this.curve();
    let xnnScore = 1;
    for (let k = 0; k < x.length; k++) {
      if (y[k] > 0.5) {
        xnnScore = x[k];
        break;
      }
    }
    return {
      images: this.images,
      threshold: this.threshold,
      pixelPrecision: ratio(this.tp, this.tp + this.fp),
      pixelRecall: ratio(this.tp, this.tp + this.fn),
      pixelIou: ratio(this.tp, this.tp + this.fp + this.fn),
      trueBoxes: this.trueBoxes,
      predictedBoxes: this.predictedBoxes,
      boxRecall: ratio(this.matchedTrue, this.trueBoxes),
      boxPrecision: ratio(this.matchedPredicted, this.predictedBoxes),
      meanBoxIou: ratio(this.iouSum, this.trueBoxes),
      xnnScore: this.curveImages === 0 ? Number.NaN : xnnScore,
    };
  }
}

/** Mean box of a set of boxes given in fractions of their image (the trivial baseline's guess). */
export function meanBox(boxes: Box[]): Box {
  if (boxes.length === 0) return { x: 0.25, y: 0.25, width: 0.5, height: 0.5 };
  const sum = boxes.reduce((s, b) => ({ x: s.x + b.x, y: s.y + b.y, width: s.width + b.width, height: s.height + b.height }), { x: 0, y: 0, width: 0, height: 0 });
  return { x: sum.x / boxes.length, y: sum.y / boxes.length, width: sum.width / boxes.length, height: sum.height / boxes.length };
}

/** A box in fractions of the image scaled to pixels. */
export function scaleBox(box: Box, width: number, height: number): Box {
  return { x: box.x * width, y: box.y * height, width: box.width * width, height: box.height * height };
}
