// `picpac train fcn DB WS`: the XNN workflow (REFERENCE §2.3.2) on TensorFlow.js. A loop over
// ImageStream batches (batch-tensors.ts) with a per-pixel sigmoid or softmax loss; snapshots
// with the optimizer state and the stream position, so `resume` continues bit for bit; a
// validation pass at every snapshot; WS/model = the best snapshot; curves redrawn as it goes;
// Ctrl+C (SIGINT) or an AbortSignal writes a snapshot before returning.
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { ImageStream } from '../augment/stream/stream.ts';
import { PicpacError } from '../errors.ts';
import { describeBackend, initBackend, tf } from './backend.ts';
import type { BackendChoice, BackendInfo } from './backend.ts';
import { batchToTensors, pixelLoss } from './batch-tensors.ts';
import { trainingCurves } from './curves.ts';
import type { EvalMetrics } from './evaluate.ts';
import { loadModelFromDir, loadOptimizerState, saveModel, saveOptimizer } from './model-io.ts';
import type { ModelMeta } from './model-io.ts';
import { buildModel, getTemplate } from './templates.ts';
import type { Template } from './templates.ts';
import { resolveParams, streamConfigs } from './train-params.ts';
import type { TrainOptions, TrainParams } from './train-params.ts';
import { validateModel } from './validate.ts';
import {
  appendLog, appendMetrics, listSnapshots, readMetrics, readSnapshotState, truncateMetrics, wsPaths,
} from './workspace.ts';
import type { SnapshotState, StepRow } from './workspace.ts';

export type { TrainOptions, TrainParams } from './train-params.ts';

export interface TrainRunOptions {
  /** Progress line (step, loss, images/s, stream share, ETA): redrawn on a TTY. */
  progress?: { write(text: string): unknown; isTTY?: boolean };
  /** Human log lines (also written to WS/train.log). */
  log?: (line: string) => void;
  /** Called after every step. */
  onStep?: (row: StepRow) => void;
  /** Abort = snapshot now and return with interrupted: true. */
  signal?: AbortSignal;
  /** Install a SIGINT handler that does the same (default false; the CLI sets it). */
  handleSigint?: boolean;
}

export interface TrainResult {
  workspace: string;
  /** Last step trained (= the last snapshot). */
  step: number;
  interrupted: boolean;
  backend: BackendInfo;
  /** Images per second over this run's steps (stream wait included). */
  imagesPerSecond: number;
  /** Share of step time spent waiting for the stream. */
  streamShare: number;
  seconds: number;
  losses: number[];
  best: { step: number; metrics: EvalMetrics & { loss: number } } | undefined;
}

interface ParamsFile {
  params: TrainParams;
  streams: { train: Record<string, unknown>; validation: Record<string, unknown> | null };
  template: Template;
  modelMeta: Omit<ModelMeta, 'step'>;
  backend: BackendInfo;
  versions: { picpac: string; tfjs: string; node: string };
  created: string;
}

const PICPAC_VERSION = '0.1.0';

/** Start a new run in a new workspace (refused if WS exists, unless options.resume). */
export async function trainFcn(options: TrainOptions, run: TrainRunOptions = {}): Promise<TrainResult> {
  const ws = path.resolve(options.workspace);
  if (existsSync(ws)) {
    if (options.resume) return resumeTraining(ws, { ...run });
    throw new PicpacError('EXISTS', `workspace ${ws} exists: pick a new one, or continue it with \`picpac train resume ${options.workspace}\` (or --resume)`);
  }
  const params = await resolveParams(options);
  const backend = await initBackend({ backend: params.backend });
  const template = getTemplate(params.template);
  const streams = streamConfigs(params, template);
  const modelMeta: Omit<ModelMeta, 'step'> = {
    template: template.name, inputSize: [params.size, params.size], channels: 3, channelOrder: 'BGR',
    mean: [params.mean, params.mean, params.mean], inputScale: params.inputScale, loss: params.loss, stride: template.stride,
  };
  const p = wsPaths(ws);
  await mkdir(p.snapshots, { recursive: true });
  const file: ParamsFile = {
    params, streams, template, modelMeta, backend,
    versions: { picpac: PICPAC_VERSION, tfjs: tf.version.tfjs, node: process.version }, created: new Date().toISOString(),
  };
  await writeFile(p.params, JSON.stringify(file, null, 2) + '\n');
  try {
    return await runLoop(ws, file, undefined, run);
  } catch (error) {
    // A run that fails before its first snapshot (bad stream parameter, unreadable database,
    // a crash at start-up) leaves nothing to resume: remove the workspace this call created,
    // so that the same command can be run again instead of being refused as "exists".
    if ((await listSnapshots(ws).catch(() => [1])).length === 0) await rm(ws, { recursive: true, force: true });
    throw error;
  }
}

/** Continue a workspace from its latest snapshot, or the named one (a step number or a path). */
export async function resumeTraining(workspace: string, options: TrainRunOptions & { snapshot?: string | number; steps?: number } = {}): Promise<TrainResult> {
  const ws = path.resolve(workspace);
  const p = wsPaths(ws);
  if (!existsSync(p.params)) throw new Error(`${ws} is not a training workspace (no params.json)`);
  const file = JSON.parse(await readFile(p.params, 'utf8')) as ParamsFile;
  if (options.steps !== undefined) {
    file.params.steps = options.steps;
    await writeFile(p.params, JSON.stringify(file, null, 2) + '\n');
  }
  let snapshotDir: string | undefined;
  if (options.snapshot !== undefined) {
    const named = String(options.snapshot);
    snapshotDir = /^\d+$/.test(named) ? p.snapshot(Number(named)) : path.resolve(named);
    if (!existsSync(path.join(snapshotDir, 'state.json'))) throw new Error(`no snapshot at ${snapshotDir}`);
  } else {
    const steps = await listSnapshots(ws);
    if (steps.length > 0) snapshotDir = p.snapshot(steps[steps.length - 1]);
  }
  return runLoop(ws, file, snapshotDir, options);
}

function makeOptimizer(params: TrainParams): tfTypes.Optimizer {
  return params.optimizer === 'adam' ? tf.train.adam(params.lr) : tf.train.momentum(params.lr, 0.9);
}

async function runLoop(ws: string, file: ParamsFile, snapshotDir: string | undefined, run: TrainRunOptions): Promise<TrainResult> {
  const { params, template } = file;
  const p = wsPaths(ws);
  const backend = await initBackend({ backend: snapshotDir ? (file.backend.name === 'tensorflow' ? 'auto' : (file.backend.name as BackendChoice)) : params.backend });
  const log = async (line: string) => {
    run.log?.(line);
    await appendLog(ws, line);
  };
  let model: tfTypes.LayersModel;
  const optimizer = makeOptimizer(params);
  let startStep = 0;
  let position = { epoch: 0, offset: 0 };
  if (snapshotDir !== undefined) {
    const state = await readSnapshotState(snapshotDir);
    model = (await loadModelFromDir(snapshotDir)).model;
    await loadOptimizerState(optimizer, snapshotDir);
    startStep = state.step;
    position = state.position;
    await truncateMetrics(ws, startStep);
    if (state.backend !== backend.name) await log(`warning: snapshot trained on ${state.backend}, resuming on ${backend.name}: losses may differ in the last bits`);
    await log(`resume from ${path.relative(ws, snapshotDir) || snapshotDir} (step ${startStep}, stream epoch ${position.epoch} offset ${position.offset}); ${describeBackend(backend)}`);
  } else {
    model = buildModel(tf, template, { height: params.size, width: params.size, channels: 3, classes: params.loss === 'sigmoid' ? 1 : 2, seed: params.seed });
    await log(`train ${template.name} on ${params.db} → ${ws}; ${describeBackend(backend)}; ${model.countParams()} weights`);
  }
  const best = await readBest(ws);
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  run.signal?.addEventListener('abort', onAbort);
  let sigints = 0;
  const onSigint = () => {
    sigints++;
    if (sigints > 1) process.exit(130);
    run.progress?.write('\ninterrupted: writing a snapshot (Ctrl+C again to quit now)\n');
    controller.abort();
  };
  if (run.handleSigint) process.on('SIGINT', onSigint);

  const stream = await ImageStream.open(params.db, { ...file.streams.train, resume_epoch: position.epoch, resume_offset: position.offset });
  for (const warning of stream.warnings) await log(`stream warning: ${warning}`);
  const varList = model.trainableWeights.map((w) => w.read() as tfTypes.Variable);
  const started = performance.now();
  const losses: number[] = [];
  let pending: StepRow[] = [];
  let waitMs = 0;
  let totalMs = 0;
  let images = 0;
  let step = startStep;
  let lastSnapshot = startStep;
  const progress = new ProgressLine(run.progress, params.steps, startStep);
  const snapshot = async (validate: boolean) => {
    const dir = p.snapshot(step);
    await mkdir(dir, { recursive: true });
    const meta: ModelMeta = { ...file.modelMeta, step };
    await saveModel(model, dir, meta);
    await saveOptimizer(optimizer, dir);
    let validation: (EvalMetrics & { loss: number }) | undefined;
    if (validate && file.streams.validation !== null) {
      const v = await validateModel(model, meta, params.db, file.streams.validation);
      validation = { ...v.metrics, loss: v.loss };
      await mkdir(p.eval, { recursive: true });
      await writeFile(path.join(p.eval, `${step}.json`), JSON.stringify({ step, ...validation }, null, 2) + '\n');
      if (pending.length > 0) pending[pending.length - 1].val = validation;
      await log(`step ${step}: validation ${formatMetrics(validation)} (${v.seconds.toFixed(1)} s)`);
    }
    const state: SnapshotState = { step, position: stream.position(), seed: params.seed, backend: backend.name, savedAt: new Date().toISOString(), validation };
    await writeFile(path.join(dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
    await appendMetrics(ws, pending);
    pending = [];
    if (validation !== undefined && isBetter(validation, best.metrics, params.select)) {
      best.step = step;
      best.metrics = validation;
      await copyToModel(dir, p.model);
      await log(`step ${step}: new best → model/`);
    } else if (file.streams.validation === null) {
      await copyToModel(dir, p.model); // no validation fold: the latest snapshot is the model
    }
    await writeFile(p.curves, trainingCurves(await readMetrics(ws)));
    lastSnapshot = step;
  };

  try {
    while (step < params.steps && !controller.signal.aborted) {
      const t0 = performance.now();
      const batch = await stream.next();
      if (batch === null) break;
      const t1 = performance.now();
      const t = batchToTensors(batch, { inputScale: params.inputScale, loss: params.loss });
      stream.release(batch); // the tensors own copies: the stream may reuse the batch's memory
      if (t.y === undefined) throw new Error('the stream gives no per-pixel labels: annotate must be json or image');
      const cost = optimizer.minimize(() => {
        const logits = model.apply(t.x, { training: true }) as tfTypes.Tensor4D;
        return pixelLoss(logits, t.y!, params.loss);
      }, true, varList)!;
      const loss = (await cost.data())[0];
      tf.dispose([cost, t.x, t.y]);
      const t2 = performance.now();
      step++;
      waitMs += t1 - t0;
      totalMs += t2 - t0;
      images += t.count;
      losses.push(loss);
      if (!Number.isFinite(loss)) throw new Error(`loss is ${loss} at step ${step}: lower --lr`);
      const row: StepRow = { step, epoch: batch.position.epoch, loss, imagesPerSecond: (t.count * 1000) / (t2 - t0), streamWaitMs: t1 - t0, stepMs: t2 - t0 };
      pending.push(row);
      run.onStep?.(row);
      progress.update(step, loss, images / (totalMs / 1000), waitMs / totalMs);
      // A step can finish without a macrotask (sync reads, settled promises): yield so that a
      // SIGINT (and other I/O callbacks) is handled at the next step, not minutes later.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (step % params.snapshotEvery === 0 || step === params.steps) {
        progress.clear();
        await snapshot(true);
      }
    }
    if (step !== lastSnapshot) {
      progress.clear();
      await snapshot(!controller.signal.aborted);
    } else if (pending.length > 0) {
      await appendMetrics(ws, pending);
    }
  } finally {
    progress.clear();
    run.signal?.removeEventListener('abort', onAbort);
    if (run.handleSigint) process.removeListener('SIGINT', onSigint);
    await stream.close();
    model.dispose();
    optimizer.dispose();
  }
  const interrupted = controller.signal.aborted && step < params.steps;
  const seconds = (performance.now() - started) / 1000;
  const summary = `${interrupted ? 'interrupted' : 'finished'} at step ${step}: ${(images / Math.max(1e-9, totalMs / 1000)).toFixed(1)} images/s, stream ${(100 * waitMs / Math.max(1e-9, totalMs)).toFixed(1)} % of step time, ${seconds.toFixed(1)} s` +
    (best.step >= 0 ? `; best step ${best.step} (mean box IoU ${best.metrics!.meanBoxIou.toFixed(3)})` : '');
  await log(summary);
  return {
    workspace: ws, step, interrupted, backend, seconds, losses,
    imagesPerSecond: images / Math.max(1e-9, totalMs / 1000), streamShare: waitMs / Math.max(1e-9, totalMs),
    best: best.step >= 0 ? { step: best.step, metrics: best.metrics! } : undefined,
  };
}

export function formatMetrics(m: EvalMetrics & { loss?: number }): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
  return `${m.loss !== undefined ? `loss ${f(m.loss)}, ` : ''}pixel P/R/IoU ${f(m.pixelPrecision)}/${f(m.pixelRecall)}/${f(m.pixelIou)}, boxes: recall ${f(m.boxRecall)} precision ${f(m.boxPrecision)} mean IoU ${f(m.meanBoxIou)}, XNN score ${f(m.xnnScore)} (${m.images} images, ${m.trueBoxes} objects)`;
}

export function isBetter(candidate: EvalMetrics, current: EvalMetrics | undefined, select: TrainParams['select']): boolean {
  if (current === undefined) return true;
  if (select === 'xnn-score') return candidate.xnnScore < current.xnnScore || (candidate.xnnScore === current.xnnScore && candidate.meanBoxIou > current.meanBoxIou);
  return candidate.meanBoxIou > current.meanBoxIou || (candidate.meanBoxIou === current.meanBoxIou && candidate.xnnScore < current.xnnScore);
}

async function readBest(ws: string): Promise<{ step: number; metrics: (EvalMetrics & { loss: number }) | undefined }> {
  const file = path.join(wsPaths(ws).model, 'state.json');
  if (!existsSync(file)) return { step: -1, metrics: undefined };
  const state = JSON.parse(await readFile(file, 'utf8')) as SnapshotState;
  return { step: state.validation ? state.step : -1, metrics: state.validation };
}

/** model/ = the snapshot's model files and state (no optimizer: it is for deployment). */
export async function copyToModel(snapshotDir: string, modelDir: string): Promise<void> {
  await rm(modelDir, { recursive: true, force: true });
  await mkdir(modelDir, { recursive: true });
  for (const name of ['model.json', 'weights.bin', 'state.json']) {
    if (existsSync(path.join(snapshotDir, name))) await cp(path.join(snapshotDir, name), path.join(modelDir, name));
  }
}

class ProgressLine {
  private lastDraw = -Infinity;
  private drawn = false;
  private readonly started = performance.now();
  constructor(private readonly out: TrainRunOptions['progress'], private readonly total: number, private readonly first: number) {}

  update(step: number, loss: number, imagesPerSecond: number, streamShare: number): void {
    if (this.out === undefined) return;
    const now = performance.now();
    const tty = this.out.isTTY === true;
    if (now - this.lastDraw < (tty ? 200 : 10000) && step !== this.total) return;
    this.lastDraw = now;
    const elapsed = (now - this.started) / 1000;
    const eta = this.total > step ? (elapsed / Math.max(1, step - this.first)) * (this.total - step) : 0;
    const line = `step ${step}/${this.total}  loss ${loss.toFixed(4)}  ${imagesPerSecond.toFixed(1)} img/s  stream ${(streamShare * 100).toFixed(1)} %  ETA ${formatSeconds(eta)}`;
    if (tty) {
      this.out.write(`\r${line}\x1b[K`);
      this.drawn = true;
    } else {
      this.out.write(`${line}\n`);
    }
  }

  clear(): void {
    if (this.drawn && this.out) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds - m * 60)).padStart(2, '0')}s`;
}

