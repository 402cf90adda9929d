// picpac train TEMPLATE DB WS | train resume WS [SNAPSHOT] | train eval WS: the XNN workflow
// (REFERENCE §2.3.2-2.3.3) on TensorFlow.js. Every stream parameter is accepted as an option
// and overrides the trainer's stream defaults (train-params.ts).
import { STREAM_PARAMS, STREAM_PARAM_NAMES } from '../../augment/config-schema.ts';
import { BACKEND_CHOICES, TFJS_PACKAGES } from '../../train/backend-choices.ts';
import { requireOptional } from '../../optional-import.ts';
import { TEMPLATE_NAMES } from '../../train/templates.ts';
import type { TrainResult } from '../../train/trainer.ts';
import { UsageError, choiceOption, flagOption, intOption, stringOption, type CliIo, type CommandSpec, type OptionSpec, type ParsedCommand } from '../args.ts';

/** Stream names the trainer sets itself (own options, or controlled: fold side, looping, layout, resume position). */
const OWN = new Set(['batch', 'split', 'seed', 'threads', 'split_fold', 'split_negate', 'loop', 'order', 'dtype', 'resume_epoch', 'resume_offset']);

const STREAM_OPTIONS: Record<string, OptionSpec> = Object.fromEntries(
  STREAM_PARAM_NAMES.filter((n) => !OWN.has(n)).map((name) => [name, { type: 'string', valueName: STREAM_PARAMS[name].type.toUpperCase(), description: `stream: ${STREAM_PARAMS[name].doc}` } satisfies OptionSpec]),
);

export const trainCommand: CommandSpec = {
  name: 'train',
  summary: 'train an FCN (fcn, fcn-tiny) on a database into a workspace; resume; eval snapshots',
  synopsis: 'TEMPLATE DB WS | resume WS [SNAPSHOT] | eval WS',
  description:
    `Templates: ${TEMPLATE_NAMES.join(', ')}. 'picpac train fcn-tiny DB WS' trains on the annotated images of\n` +
    'DB (fold --fold of --split held out for validation) and writes WS/params.json, WS/train.log,\n' +
    'WS/metrics.csv, WS/curves.svg, WS/snapshots/<step>/ (weights, optimizer state, stream\n' +
    'position) and WS/model/ (the best snapshot by validation score). An existing WS is refused\n' +
    'unless --resume. Ctrl+C writes a snapshot before exiting (exit code 130).\n' +
    "'picpac train resume WS [SNAPSHOT]' continues from the latest (or the named) snapshot exactly\n" +
    "as an uninterrupted run would. 'picpac train eval WS' scores every snapshot on the validation\n" +
    'fold (pixel precision/recall/IoU, box recall and mean IoU, XNN score) and copies the best to\n' +
    'WS/model. Backends, best first: tfjs-node-gpu, tfjs-node, wasm, cpu (--backend to force).\n' +
    'Any stream parameter (--pert_angle 20, --annotate image, ...) overrides the stream defaults.',
  options: {
    split: { type: 'string', valueName: 'K', description: 'K-fold split for validation (default 5; 1 = no validation)' },
    fold: { type: 'string', valueName: 'F', description: 'held-out fold (default 0)' },
    batch: { type: 'string', valueName: 'B', description: 'batch size (template default: fcn 4, fcn-tiny 8)' },
    steps: { type: 'string', valueName: 'N', description: 'steps to train (or --epochs; default 10 epochs)' },
    epochs: { type: 'string', valueName: 'E', description: 'epochs of the training fold (instead of --steps)' },
    lr: { type: 'string', valueName: 'RATE', description: 'learning rate (template default: fcn 1e-3, fcn-tiny 3e-3)' },
    optimizer: { type: 'string', valueName: 'adam|momentum', description: 'optimizer (default adam; momentum = SGD with momentum 0.9, as XNN)' },
    loss: { type: 'string', valueName: 'sigmoid|softmax', description: 'per-pixel loss (default sigmoid; softmax = 2 classes, as XNN)' },
    size: { type: 'string', valueName: 'S', description: 'resize images to S×S, a multiple of 16 (template default: fcn 256, fcn-tiny 128)' },
    'snapshot-every': { type: 'string', valueName: 'N', description: 'snapshot and validate every N steps (default: 10 per run)' },
    seed: { type: 'string', valueName: 'N', description: 'seed of the weights and the stream (default 2016)' },
    threads: { type: 'string', valueName: 'T', description: 'stream decode threads (default 1)' },
    backend: { type: 'string', valueName: 'NAME', description: `TensorFlow.js backend: ${BACKEND_CHOICES.join(', ')} (default auto)` },
    select: { type: 'string', valueName: 'RULE', description: 'best snapshot by mean-box-iou (default, higher) or xnn-score (lower)' },
    resume: { type: 'boolean', description: 'continue an existing WS instead of refusing it' },
    force: { type: 'boolean', description: 'eval: re-score snapshots even when WS/eval/<step>.json exists' },
    ...STREAM_OPTIONS,
  },
  minPositionals: 2,
  maxPositionals: 3,
  examples: [
    'picpac train fcn-tiny plates.picpac ws --steps 600',
    'picpac train fcn plates.picpac ws-fcn --split 5 --fold 0 --batch 4 --epochs 20 --pert_angle 20',
    'picpac train resume ws',
    'picpac train resume ws 300',
    'picpac train eval ws',
  ],
  run: runTrain,
};

function numberOption(args: ParsedCommand, name: string): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new UsageError(`invalid value for --${name}: expected a positive number, got '${text}'`, 'train');
  return value;
}

async function runTrain(args: ParsedCommand, io: CliIo): Promise<number> {
  const cmd = 'train';
  const [first, ...rest] = args.positionals;
  // TensorFlow.js loads only when a command computes (about a second); it is optional.
  requireOptional(['@tensorflow/tfjs'], 'picpac train', TFJS_PACKAGES);
  const { formatMetrics, resumeTraining, trainFcn } = await import('../../train/trainer.ts');
  const { describeBackend } = await import('../../train/backend.ts');
  const run = { progress: io.stderr, log: (line: string) => void io.stdout.write(`${line}\n`), handleSigint: true };
  let result: TrainResult;
  if (first === 'eval') {
    if (rest.length !== 1) throw new UsageError('expected: picpac train eval WS', cmd);
    const select = choiceOption(args, 'select', ['mean-box-iou', 'xnn-score'] as const, cmd);
    const { evaluateWorkspace } = await import('../../train/workspace-eval.ts');
    const evaluation = await evaluateWorkspace(rest[0], {
      select, force: flagOption(args, 'force'),
      onScore: (s) => void io.stdout.write(`step ${s.step}${s.cached ? ' (cached)' : ''}: ${formatMetrics(s.metrics)}\n`),
    });
    if (evaluation.best === undefined) {
      io.stdout.write('no snapshots to evaluate\n');
      return 1;
    }
    io.stdout.write(`best by ${evaluation.select}: step ${evaluation.best.step} → ${rest[0]}/model\n`);
    return 0;
  }
  if (first === 'resume') {
    if (rest.length < 1 || rest.length > 2) throw new UsageError('expected: picpac train resume WS [SNAPSHOT]', cmd);
    result = await resumeTraining(rest[0], { ...run, snapshot: rest[1], steps: intOption(args, 'steps', { min: 1 }, cmd) });
  } else {
    if (rest.length !== 2) throw new UsageError(`expected: picpac train TEMPLATE DB WS (templates: ${TEMPLATE_NAMES.join(', ')})`, cmd);
    if (!TEMPLATE_NAMES.includes(first)) throw new UsageError(`unknown template '${first}': expected one of ${TEMPLATE_NAMES.join(', ')}, resume, eval`, cmd);
    const stream: Record<string, string> = {};
    for (const name of Object.keys(STREAM_OPTIONS)) {
      const value = stringOption(args, name);
      if (value !== undefined) stream[name] = value;
    }
    try {
      result = await trainFcn({
        template: first, db: rest[0], workspace: rest[1],
        split: intOption(args, 'split', { min: 1 }, cmd), fold: intOption(args, 'fold', { min: 0 }, cmd),
        batch: intOption(args, 'batch', { min: 1 }, cmd), steps: intOption(args, 'steps', { min: 1 }, cmd), epochs: numberOption(args, 'epochs'),
        lr: numberOption(args, 'lr'), size: intOption(args, 'size', { min: 16 }, cmd),
        snapshotEvery: intOption(args, 'snapshot-every', { min: 1 }, cmd), seed: intOption(args, 'seed', { min: 0 }, cmd),
        threads: intOption(args, 'threads', { min: 0 }, cmd),
        optimizer: choiceOption(args, 'optimizer', ['adam', 'momentum'] as const, cmd), loss: choiceOption(args, 'loss', ['sigmoid', 'softmax'] as const, cmd),
        backend: choiceOption(args, 'backend', BACKEND_CHOICES, cmd), select: choiceOption(args, 'select', ['mean-box-iou', 'xnn-score'] as const, cmd),
        stream, resume: flagOption(args, 'resume'),
      }, run);
    } catch (error) {
      if (error instanceof TypeError || error instanceof RangeError) throw new UsageError(error.message, cmd);
      throw error;
    }
  }
  io.stdout.write(`${describeBackend(result.backend)}\n`);
  io.stdout.write(`workspace ${result.workspace}: step ${result.step}${result.interrupted ? ' (interrupted; continue with picpac train resume)' : ''}, ` +
    `${result.imagesPerSecond.toFixed(1)} images/s, stream ${(result.streamShare * 100).toFixed(1)} % of step time\n`);
  if (result.best) io.stdout.write(`best: step ${result.best.step}: ${formatMetrics(result.best.metrics)}\n`);
  return result.interrupted ? 130 : 0;
}
