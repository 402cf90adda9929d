// Training parameters: validation, defaults, and the two stream configurations they imply
// (training: looping, shuffled, perturbed, fold `fold` held out; validation: the held-out fold,
// one pass, no perturbation). Any stream parameter can be overridden (`stream`).
import path from 'node:path';
import { parseStreamConfig } from '../augment/config.ts';
import { ImageStream } from '../augment/stream/stream.ts';
import { invalidParameterError } from '../errors.ts';
import { BACKEND_CHOICES } from './backend-choices.ts';
import type { BackendChoice } from './backend-choices.ts';
import { getTemplate } from './templates.ts';
import type { Template } from './templates.ts';

export interface TrainOptions {
  /** 'fcn' or 'fcn-tiny'. */
  template: string;
  db: string;
  workspace: string;
  /** K-fold split and held-out fold for validation (default 5 and 0; split 1 = no validation). */
  split?: number;
  fold?: number;
  batch?: number;
  /** Steps to train; or epochs (of the training fold). Default: 10 epochs. */
  steps?: number;
  epochs?: number;
  lr?: number;
  optimizer?: 'adam' | 'momentum';
  loss?: 'sigmoid' | 'softmax';
  /** Images are resized to size × size (a multiple of the template's stride). */
  size?: number;
  /** Snapshot (and validate) every N steps (default: about 10 snapshots per run). */
  snapshotEvery?: number;
  seed?: number;
  /** Stream decode threads (default 1: one core trains, one decodes). */
  threads?: number;
  backend?: BackendChoice;
  /** Snapshot selection for WS/model: 'mean-box-iou' (default, higher is better) or 'xnn-score' (lower). */
  select?: 'mean-box-iou' | 'xnn-score';
  /** Extra stream parameters (override the defaults below). */
  stream?: Record<string, unknown>;
  /** Continue an existing workspace instead of refusing it. */
  resume?: boolean;
}

export interface TrainParams {
  template: string;
  db: string;
  split: number;
  fold: number;
  batch: number;
  steps: number;
  epochs: number | null;
  lr: number;
  optimizer: 'adam' | 'momentum';
  loss: 'sigmoid' | 'softmax';
  size: number;
  snapshotEvery: number;
  seed: number;
  threads: number;
  backend: BackendChoice;
  select: 'mean-box-iou' | 'xnn-score';
  stream: Record<string, unknown>;
  mean: number;
  inputScale: number;
}

function positiveInt(name: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalidParameterError(name, `an integer ≥ ${min}`, value);
  return value;
}

function oneOf<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (!(choices as readonly unknown[]).includes(value)) throw invalidParameterError(name, `one of ${choices.join(', ')}`, value);
  return value as T;
}

export async function resolveParams(options: TrainOptions): Promise<TrainParams> {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
  const template = getTemplate(options.template);
  if (typeof options.db !== 'string' || options.db === '') throw invalidParameterError('db', 'a path', options.db);
  const split = positiveInt('split', options.split ?? 5);
  const fold = positiveInt('fold', options.fold ?? 0, 0);
  if (split > 1 && fold >= split) throw invalidParameterError('fold', `an integer in 0..${split - 1}`, fold);
  const batch = positiveInt('batch', options.batch ?? template.defaults.batch);
  const size = positiveInt('size', options.size ?? template.defaults.size, template.stride);
  if (size % template.stride !== 0) throw invalidParameterError('size', `a multiple of ${template.stride} (the ${template.name} stride)`, size);
  const lr = options.lr ?? template.defaults.lr;
  if (typeof lr !== 'number' || !(lr > 0) || lr > 10) throw invalidParameterError('lr', 'a number in (0, 10]', lr);
  const db = path.resolve(options.db);
  let steps = options.steps;
  let epochs: number | null = null;
  if (steps !== undefined && options.epochs !== undefined) throw invalidParameterError('steps', 'either steps or epochs, not both', steps);
  if (steps === undefined) {
    epochs = options.epochs ?? 10;
    if (typeof epochs !== 'number' || !(epochs > 0)) throw invalidParameterError('epochs', 'a positive number', epochs);
    // Epoch size after the split (and any mixin / stratify override): decode nothing, just sample.
    const probe = await ImageStream.open(db, { ...(options.stream ?? {}), split, split_fold: split > 1 ? fold : 0, threads: 0 });
    const perEpoch = probe.epochSize();
    await probe.close();
    steps = Math.max(1, Math.ceil((epochs * perEpoch) / batch));
  }
  positiveInt('steps', steps);
  const snapshotEvery = positiveInt('snapshotEvery', options.snapshotEvery ?? Math.max(1, Math.ceil(steps / 10)));
  const params: TrainParams = {
    template: template.name,
    db,
    split,
    fold: split > 1 ? fold : 0,
    batch,
    steps,
    epochs,
    lr,
    optimizer: oneOf('optimizer', options.optimizer ?? 'adam', ['adam', 'momentum'] as const),
    loss: oneOf('loss', options.loss ?? 'sigmoid', ['sigmoid', 'softmax'] as const),
    size,
    snapshotEvery,
    seed: positiveInt('seed', options.seed ?? 2016, 0),
    threads: positiveInt('threads', options.threads ?? 1, 0),
    backend: oneOf('backend', options.backend ?? 'auto', BACKEND_CHOICES),
    select: oneOf('select', options.select ?? 'mean-box-iou', ['mean-box-iou', 'xnn-score'] as const),
    stream: { ...(options.stream ?? {}) },
    mean: 127,
    inputScale: 1 / 128,
  };
  streamConfigs(params, template); // validate the stream overrides now, not at step 1
  return params;
}

/** The training and validation stream configurations (plain objects, recorded in params.json). */
export function streamConfigs(params: TrainParams, template: Template): { train: Record<string, unknown>; validation: Record<string, unknown> | null } {
  const train: Record<string, unknown> = {
    annotate: 'json', anno_color1: 1, channels: 3,
    resize_width: params.size, resize_height: params.size, crop_width: params.size, crop_height: params.size, round_div: template.stride,
    mean_color1: params.mean, mean_color2: params.mean, mean_color3: params.mean,
    perturb: true, pert_color1: 12, pert_color2: 12, pert_color3: 12, pert_angle: 8, pert_min_scale: 0.85, pert_max_scale: 1.15, pert_hflip: true,
    split: params.split, split_fold: params.fold, split_negate: false,
    batch: params.batch, loop: true, shuffle: true, reshuffle: true, seed: params.seed, threads: params.threads,
    ...params.stream,
  };
  for (const key of ['order', 'dtype', 'loop', 'resume_epoch', 'resume_offset']) {
    if (Object.hasOwn(params.stream, key)) throw invalidParameterError(key, 'not set by hand (the trainer controls it)', params.stream[key]);
  }
  parseStreamConfig(train);
  if (params.split <= 1) return { train, validation: null };
  // Same seed and shuffle as training: the fold membership depends on both.
  const validation: Record<string, unknown> = { ...train, perturb: false, loop: false, split_negate: true, pad: false };
  parseStreamConfig(validation);
  return { train, validation };
}
