// picpac rf MODEL [--size S] [--db DB]: receptive field per layer and of the narrowest layer
// (REFERENCE §2.4, the seed's first tool). MODEL: a template name, a training workspace, a model
// directory or a tfjs Layers model.json (topology alone is enough). With --db, compares the
// receptive field with the annotated object sizes and warns when it is too small or far too large.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatReceptiveField, parseLayersModelJson, receptiveField, templateLayers } from '../../train/receptive-field.ts';
import type { RfLayer, RfResult } from '../../train/receptive-field.ts';
import { TEMPLATES, TEMPLATE_NAMES } from '../../train/templates.ts';
import { compareWithObjects, objectSizes } from '../../train/object-sizes.ts';
import { UsageError, flagOption, intOption, stringOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';

export const rfCommand: CommandSpec = {
  name: 'rf',
  summary: 'receptive field per layer and of the narrowest layer; compare with object sizes (--db)',
  synopsis: 'MODEL',
  description:
    `MODEL is a template (${TEMPLATE_NAMES.join(', ')}), a training workspace, a model directory or a\n` +
    'TensorFlow.js Layers model.json (topology alone is enough). Prints a table (layer, type,\n' +
    'kernel, stride, dilation, output size, jump, receptive field) and the receptive field of the\n' +
    'narrowest layer: the last spatial layer before upsampling begins. Handles dilation, padding,\n' +
    'pooling, transposed convolutions, upsampling and branching graphs (max over inputs).\n' +
    'With --db DB, compares it with the annotated object sizes (at the model input size) and\n' +
    'warns when it is smaller than a typical object or more than 8 times larger.',
  options: {
    size: { type: 'string', valueName: 'S', description: 'input size S×S (default: the model\'s, or 256 for templates)' },
    db: { type: 'string', valueName: 'DB', description: 'compare with the sizes of the objects annotated in DB' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  minPositionals: 1,
  maxPositionals: 1,
  examples: ['picpac rf fcn', 'picpac rf fcn-tiny --size 128 --db plates.picpac', 'picpac rf ws/model/model.json'],
  run: runRf,
};

/** The layer graph and default input size of MODEL. */
export async function loadRfLayers(model: string): Promise<{ layers: RfLayer[]; size: number | null; label: string }> {
  if (Object.hasOwn(TEMPLATES, model)) return { layers: templateLayers(TEMPLATES[model]), size: null, label: `template ${model}` };
  if (!existsSync(model)) throw new UsageError(`'${model}' is neither a template (${TEMPLATE_NAMES.join(', ')}) nor a file or directory`, 'rf');
  let file = model;
  if (statSync(model).isDirectory()) {
    const candidates = [path.join(model, 'model.json'), path.join(model, 'model', 'model.json')];
    const found = candidates.find((c) => existsSync(c));
    if (found === undefined) {
      const params = path.join(model, 'params.json');
      if (existsSync(params)) {
        const p = JSON.parse(await readFile(params, 'utf8')) as { params: { template: string; size: number } };
        return { layers: templateLayers(TEMPLATES[p.params.template]), size: p.params.size, label: `workspace ${model} (template ${p.params.template})` };
      }
      throw new UsageError(`no model.json in ${model}`, 'rf');
    }
    file = found;
  }
  const json = JSON.parse(await readFile(file, 'utf8')) as unknown;
  const layers = parseLayersModelJson(json);
  const input = layers.find((l) => l.type === 'input');
  return { layers, size: input?.inputSize?.[0] ?? null, label: file };
}

async function runRf(args: ParsedCommand, io: CliIo): Promise<number> {
  const [model] = args.positionals;
  const { layers, size: modelSize, label } = await loadRfLayers(model);
  const given = intOption(args, 'size', { min: 1 }, 'rf');
  const size = given ?? modelSize ?? (Object.hasOwn(TEMPLATES, model) ? 256 : null);
  let result: RfResult;
  try {
    result = receptiveField(layers, size === null ? {} : { inputSize: [size, size] });
  } catch (error) {
    if (error instanceof TypeError) throw new UsageError(`${label}: ${error.message}`, 'rf');
    throw error;
  }
  const db = stringOption(args, 'db');
  const comparison = db === undefined ? [] : compareWithObjects(result, await objectSizes(db, size), size);
  if (flagOption(args, 'json')) {
    io.stdout.write(JSON.stringify({ model: label, inputSize: size, ...result, comparison }, null, 2) + '\n');
    return 0;
  }
  io.stdout.write(`${label}${size === null ? '' : `, input ${size}×${size}`}\n`);
  io.stdout.write(formatReceptiveField(result));
  for (const line of comparison) io.stdout.write(`${line}\n`);
  return 0;
}
