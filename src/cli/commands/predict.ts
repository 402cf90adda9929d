// picpac predict MODEL INPUT... [--out DIR]: heat maps, overlays with boxes and boxes.json for
// image files or the records of databases (XNN's predict/visualize). MODEL is a model directory
// (WS/model, a snapshot) or a workspace (its model/).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BACKEND_CHOICES, TFJS_PACKAGES } from '../../train/backend-choices.ts';
import { requireOptional } from '../../optional-import.ts';
import type { PredictSource } from '../../train/predict.ts';
import { UsageError, choiceOption, intOption, stringOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.bmp', '.avif']);

export const predictCommand: CommandSpec = {
  name: 'predict',
  summary: 'run a trained model on images or a database: heat maps, overlays, boxes.json',
  synopsis: 'MODEL INPUT...',
  description:
    'MODEL is a model directory written by picpac train (WS/model or WS/snapshots/<step>) or a\n' +
    'workspace. INPUT is image files and/or databases (every record, or with --split/--fold the\n' +
    'held-out fold as in training). Writes into --out (default ./predictions): NAME.heat.png (the\n' +
    'foreground probability), NAME.overlay.png (heat map in red, boxes in green) and boxes.json\n' +
    '(boxes = connected components of the heat map ≥ --threshold, in image pixels, with scores).',
  options: {
    out: { type: 'string', valueName: 'DIR', description: 'output directory (default ./predictions)' },
    threshold: { type: 'string', valueName: 'T', description: 'heat-map threshold for boxes (default 0.5)' },
    split: { type: 'string', valueName: 'K', description: 'databases: K-fold split (with --fold: only the held-out fold)' },
    fold: { type: 'string', valueName: 'F', description: 'databases: the held-out fold (default 0)' },
    seed: { type: 'string', valueName: 'N', description: 'databases: seed of the split (the training run\'s, default 2016)' },
    limit: { type: 'string', valueName: 'N', description: 'databases: at most N records each' },
    backend: { type: 'string', valueName: 'NAME', description: `TensorFlow.js backend: ${BACKEND_CHOICES.join(', ')} (default auto)` },
  },
  minPositionals: 2,
  maxPositionals: Infinity,
  examples: [
    'picpac predict ws/model photo1.jpg photo2.jpg --out out/',
    'picpac predict ws plates.picpac --split 5 --fold 0 --out heldout/',
  ],
  run: runPredict,
};

async function* sourcesOf(inputs: string[], db: { split?: number; fold?: number; seed?: number; limit?: number }): AsyncGenerator<PredictSource> {
  const { databaseImages, fileImages } = await import('../../train/predict.ts');
  for (const input of inputs) {
    if (!existsSync(input)) throw new UsageError(`no such input: ${input}`, 'predict');
    if (IMAGE_EXTENSIONS.has(path.extname(input).toLowerCase())) yield* fileImages([input]);
    else yield* databaseImages(input, db);
  }
}

async function runPredict(args: ParsedCommand, io: CliIo): Promise<number> {
  const cmd = 'predict';
  const [modelArg, ...inputs] = args.positionals;
  const modelDir = existsSync(path.join(modelArg, 'model.json')) ? modelArg : path.join(modelArg, 'model');
  if (!existsSync(path.join(modelDir, 'model.json'))) throw new UsageError(`no model.json in ${modelArg} or ${modelDir}`, cmd);
  const thresholdText = stringOption(args, 'threshold');
  const threshold = thresholdText === undefined ? undefined : Number(thresholdText);
  if (threshold !== undefined && !(threshold > 0 && threshold < 1)) throw new UsageError(`invalid value for --threshold: expected a number in (0, 1), got '${thresholdText}'`, cmd);
  requireOptional(['@tensorflow/tfjs'], 'picpac predict', TFJS_PACKAGES);
  const { describeBackend } = await import('../../train/backend.ts');
  const { loadModel, predictToDirectory } = await import('../../train/predict.ts');
  const model = await loadModel(modelDir, { backend: choiceOption(args, 'backend', BACKEND_CHOICES, cmd), threshold });
  const outDir = stringOption(args, 'out') ?? 'predictions';
  try {
    io.stderr.write(`${describeBackend(model.backend)}\n`);
    const started = performance.now();
    const outputs = await predictToDirectory(model, sourcesOf(inputs, {
      split: intOption(args, 'split', { min: 1 }, cmd), fold: intOption(args, 'fold', { min: 0 }, cmd),
      seed: intOption(args, 'seed', { min: 0 }, cmd), limit: intOption(args, 'limit', { min: 1 }, cmd),
    }), outDir);
    const boxes = outputs.reduce((n, o) => n + o.boxes.length, 0);
    const seconds = (performance.now() - started) / 1000;
    io.stdout.write(`${outputs.length} images, ${boxes} boxes → ${path.join(outDir, 'boxes.json')} (${(outputs.length / Math.max(seconds, 1e-9)).toFixed(1)} images/s)\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
