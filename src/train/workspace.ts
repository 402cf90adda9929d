// The training working directory (XNN's WS, REFERENCE §2.3.2), one place for its layout:
//   WS/params.json            every parameter, the resolved stream configs, backend, versions
//   WS/train.log              human log (appended by every run and resume)
//   WS/metrics.csv            one row per step; validation columns filled at snapshots
//   WS/curves.svg             loss and validation curves, redrawn at each snapshot
//   WS/snapshots/<step>/      model.json + weights.bin + optimizer.{json,bin} + state.json
//   WS/model/                 the best snapshot by validation score (deployable: predict WS/model)
//   WS/eval/<step>.json       validation metrics per snapshot (cached by `train eval`)
import { existsSync } from 'node:fs';
import { appendFile, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvalMetrics } from './evaluate.ts';
import type { MetricsRow } from './curves.ts';
import type { StreamPosition } from '../augment/sampling/sampler.ts';

export const METRICS_COLUMNS = [
  'step', 'epoch', 'loss', 'images_per_s', 'stream_wait_ms', 'step_ms',
  'val_loss', 'val_pixel_precision', 'val_pixel_recall', 'val_pixel_iou', 'val_box_recall', 'val_box_precision', 'val_mean_box_iou', 'val_xnn_score',
] as const;

export interface StepRow {
  step: number;
  epoch: number;
  loss: number;
  imagesPerSecond: number;
  streamWaitMs: number;
  stepMs: number;
  val?: EvalMetrics & { loss: number };
}

/** What a snapshot needs to continue exactly where it stopped. */
export interface SnapshotState {
  step: number;
  /** Stream position after the last trained batch (resume_epoch / resume_offset). */
  position: StreamPosition;
  /** The run's seed; the only randomness outside the stream is the seeded weight init. */
  seed: number;
  backend: string;
  savedAt: string;
  validation?: EvalMetrics & { loss: number };
}

export function wsPaths(ws: string) {
  return {
    params: path.join(ws, 'params.json'),
    log: path.join(ws, 'train.log'),
    metrics: path.join(ws, 'metrics.csv'),
    curves: path.join(ws, 'curves.svg'),
    snapshots: path.join(ws, 'snapshots'),
    model: path.join(ws, 'model'),
    eval: path.join(ws, 'eval'),
    snapshot: (step: number) => path.join(ws, 'snapshots', String(step)),
  };
}

const num = (v: number | undefined, digits = 6) => (v === undefined || !Number.isFinite(v) ? '' : Number(v.toPrecision(digits)).toString());

export function metricsLine(row: StepRow): string {
  const v = row.val;
  return [
    row.step, row.epoch, num(row.loss, 8), num(row.imagesPerSecond, 4), num(row.streamWaitMs, 4), num(row.stepMs, 4),
    num(v?.loss), num(v?.pixelPrecision), num(v?.pixelRecall), num(v?.pixelIou), num(v?.boxRecall), num(v?.boxPrecision), num(v?.meanBoxIou), num(v?.xnnScore),
  ].join(',');
}

export async function appendMetrics(ws: string, rows: StepRow[]): Promise<void> {
  const file = wsPaths(ws).metrics;
  const head = existsSync(file) ? '' : `${METRICS_COLUMNS.join(',')}\n`;
  if (rows.length === 0 && head === '') return;
  await appendFile(file, head + rows.map((r) => `${metricsLine(r)}\n`).join(''));
}

/** Parsed metrics.csv (curves, resume). */
export async function readMetrics(ws: string): Promise<MetricsRow[]> {
  const file = wsPaths(ws).metrics;
  if (!existsSync(file)) return [];
  const [head, ...lines] = (await readFile(file, 'utf8')).trim().split('\n');
  const cols = head.split(',');
  const at = (cells: string[], name: string) => {
    const text = cells[cols.indexOf(name)];
    return text === undefined || text === '' ? undefined : Number(text);
  };
  return lines.filter((l) => l !== '').map((line) => {
    const c = line.split(',');
    return {
      step: at(c, 'step')!, loss: at(c, 'loss')!, valLoss: at(c, 'val_loss'), valMeanBoxIou: at(c, 'val_mean_box_iou'),
      valBoxRecall: at(c, 'val_box_recall'), valPixelIou: at(c, 'val_pixel_iou'), valXnnScore: at(c, 'val_xnn_score'),
    };
  });
}

/** Drop metrics rows after `step` (a resume from an earlier snapshot rewrites history from there). */
export async function truncateMetrics(ws: string, step: number): Promise<void> {
  const file = wsPaths(ws).metrics;
  if (!existsSync(file)) return;
  const [head, ...lines] = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  const kept = lines.filter((l) => Number(l.split(',')[0]) <= step);
  await writeFile(file, [head, ...kept].join('\n') + '\n');
}

export async function listSnapshots(ws: string): Promise<number[]> {
  const dir = wsPaths(ws).snapshots;
  if (!existsSync(dir)) return [];
  const names = await readdir(dir);
  return names.filter((n) => /^\d+$/.test(n) && existsSync(path.join(dir, n, 'state.json'))).map(Number).sort((a, b) => a - b);
}

export async function readSnapshotState(dir: string): Promise<SnapshotState> {
  return JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as SnapshotState;
}

export async function appendLog(ws: string, line: string): Promise<void> {
  await appendFile(wsPaths(ws).log, `${new Date().toISOString()} ${line}\n`);
}

/** Training throughput of a workspace's steps (metrics.csv): images/s and the stream's share. */
export async function throughputSummary(ws: string): Promise<{ steps: number; images: number; seconds: number; imagesPerSecond: number; streamShare: number }> {
  const params = JSON.parse(await readFile(wsPaths(ws).params, 'utf8')) as { params: { batch: number } };
  const file = wsPaths(ws).metrics;
  const lines = existsSync(file) ? (await readFile(file, 'utf8')).trim().split('\n').slice(1) : [];
  let stepMs = 0;
  let waitMs = 0;
  for (const line of lines) {
    const cells = line.split(',');
    waitMs += Number(cells[4]);
    stepMs += Number(cells[5]);
  }
  const images = lines.length * params.params.batch;
  const seconds = stepMs / 1000;
  return { steps: lines.length, images, seconds, imagesPerSecond: seconds > 0 ? images / seconds : 0, streamShare: stepMs > 0 ? waitMs / stepMs : 0 };
}
