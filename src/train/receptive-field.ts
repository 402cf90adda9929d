// Receptive field of a layer graph (REFERENCE §2.4): pure topology arithmetic, no TensorFlow.js.
// State per layer and axis: receptive field r (input pixels), jump j (input pixels between
// adjacent cells), output size. Forward recurrence, effective kernel k' = d·(k-1)+1:
//   conv / pool:         r += (k'-1)·j;  j *= s
//   transposed conv:     j /= s;  r += (k-1)·j        upsampling: j /= u
//   merge (add, concat): r = max over inputs, j must agree (else the max is still the bound)
//   global pooling, flatten: r = whole input.
// The "narrowest layer" is the spatial layer with the largest jump that is not downstream of any
// upsampling layer; of those, the last in topological order (XNN's fcn: the 1×1 score layer,
// 95 px at stride 16). Input: a template, or a tfjs Layers model.json (topology alone).
import type { Template } from './templates.ts';

export type RfLayerType = 'input' | 'conv' | 'pool' | 'deconv' | 'upsample' | 'merge' | 'global' | 'crop' | 'pad' | 'other';

export interface RfLayer {
  name: string;
  /** The source class ('Conv2D', 'MaxPooling2D', …). */
  className: string;
  type: RfLayerType;
  /** [height, width] each. */
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  padding: 'same' | 'valid';
  /** crop/pad: [top, bottom, left, right] pixels. */
  margins?: [number, number, number, number];
  inputs: string[];
  /** input layers only: [height, width] (null = unknown). */
  inputSize?: [number | null, number | null];
}

export interface RfRow {
  name: string;
  className: string;
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  /** Output [height, width] (null where the input size is unknown). */
  outputSize: [number | null, number | null];
  jump: [number, number];
  rf: [number, number];
  /** True for layers downstream of an upsampling layer (the decoder). */
  decoder: boolean;
}

export interface RfResult {
  rows: RfRow[];
  /** Name of the narrowest layer (last spatial layer before upsampling). */
  narrowest: string;
  rf: [number, number];
  jump: [number, number];
  warnings: string[];
}

const pair = (v: unknown, fallback: number): [number, number] => {
  if (Array.isArray(v)) return [Number(v[0] ?? fallback), Number(v[1] ?? v[0] ?? fallback)];
  if (typeof v === 'number') return [v, v];
  return [fallback, fallback];
};

/** The layers of a template, input first. */
export function templateLayers(template: Template, inputSize: [number | null, number | null] = [null, null]): RfLayer[] {
  const layers: RfLayer[] = [{ name: 'input', className: 'InputLayer', type: 'input', kernel: [1, 1], stride: [1, 1], dilation: [1, 1], padding: 'valid', inputs: [], inputSize }];
  let previous = 'input';
  for (const l of template.layers) {
    const base = { name: l.name, inputs: [previous], padding: l.padding };
    if (l.type === 'conv') layers.push({ ...base, className: 'Conv2D', type: 'conv', kernel: [l.kernel, l.kernel], stride: [l.stride, l.stride], dilation: pair(l.dilation ?? 1, 1) });
    else if (l.type === 'maxpool') layers.push({ ...base, className: 'MaxPooling2D', type: 'pool', kernel: [l.pool, l.pool], stride: [l.stride, l.stride], dilation: [1, 1] });
    else layers.push({ ...base, className: 'Conv2DTranspose', type: 'deconv', kernel: [l.kernel, l.kernel], stride: [l.stride, l.stride], dilation: [1, 1] });
    previous = l.name;
  }
  return layers;
}

const CONV_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv1D']);
const POOL_CLASSES = new Set(['MaxPooling2D', 'AveragePooling2D', 'MaxPool2D', 'AvgPool2D']);
const MERGE_CLASSES = new Set(['Add', 'Concatenate', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Subtract']);
const GLOBAL_CLASSES = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten']);

/** One layer from a Keras/tfjs layer config (snake_case, as in model.json). */
function layerFromConfig(className: string, config: Record<string, unknown>, inputs: string[]): RfLayer {
  const name = String(config.name ?? className);
  const padding = config.padding === 'same' ? 'same' : 'valid';
  const base: RfLayer = { name, className, type: 'other', kernel: [1, 1], stride: [1, 1], dilation: [1, 1], padding, inputs };
  if (className === 'InputLayer') {
    const shape = (config.batch_input_shape ?? config.batchInputShape) as (number | null)[] | undefined;
    return { ...base, type: 'input', inputSize: [shape?.[1] ?? null, shape?.[2] ?? null] };
  }
  if (CONV_CLASSES.has(className)) {
    return { ...base, type: 'conv', kernel: pair(config.kernel_size, 1), stride: pair(config.strides, 1), dilation: pair(config.dilation_rate, 1) };
  }
  if (POOL_CLASSES.has(className)) {
    const kernel = pair(config.pool_size, 2);
    return { ...base, type: 'pool', kernel, stride: config.strides == null ? kernel : pair(config.strides, 1) };
  }
  if (className === 'Conv2DTranspose') return { ...base, type: 'deconv', kernel: pair(config.kernel_size, 1), stride: pair(config.strides, 1) };
  if (className === 'UpSampling2D') return { ...base, type: 'upsample', kernel: [1, 1], stride: pair(config.size, 2) };
  if (MERGE_CLASSES.has(className)) return { ...base, type: 'merge' };
  if (GLOBAL_CLASSES.has(className)) return { ...base, type: 'global' };
  if (className === 'Cropping2D' || className === 'ZeroPadding2D') {
    const raw = (className === 'Cropping2D' ? config.cropping : config.padding) as unknown;
    let m: [number, number, number, number] = [0, 0, 0, 0];
    if (typeof raw === 'number') m = [raw, raw, raw, raw];
    else if (Array.isArray(raw) && Array.isArray(raw[0])) m = [raw[0][0], raw[0][1], raw[1][0], raw[1][1]];
    else if (Array.isArray(raw)) m = [raw[0], raw[0], raw[1], raw[1]];
    return { ...base, type: className === 'Cropping2D' ? 'crop' : 'pad', padding: 'valid', margins: m };
  }
  return base;
}

/**
 * Parse a tfjs Layers `model.json` (or its `modelTopology`, or a Keras model config): Sequential
 * and functional graphs (inbound nodes), nested `model_config`. Weights are not needed.
 */
export function parseLayersModelJson(json: unknown): RfLayer[] {
  let node = json as Record<string, unknown>;
  if (node && typeof node === 'object' && 'modelTopology' in node) node = node.modelTopology as Record<string, unknown>;
  if (node && typeof node === 'object' && 'model_config' in node) node = node.model_config as Record<string, unknown>;
  if (!node || typeof node !== 'object' || typeof node.class_name !== 'string') throw new TypeError('not a tfjs Layers model.json: no model topology with class_name');
  const className = node.class_name;
  const config = node.config as Record<string, unknown> | unknown[];
  const layerList = (Array.isArray(config) ? config : (config as { layers?: unknown[] }).layers) as { class_name: string; config: Record<string, unknown>; inbound_nodes?: unknown[]; name?: string }[] | undefined;
  if (!Array.isArray(layerList)) throw new TypeError(`model.json ${className}: no layer list`);
  const out: RfLayer[] = [];
  if (className === 'Sequential') {
    const first = layerList[0]?.config ?? {};
    const shape = (first.batch_input_shape ?? (first.input_shape ? [null, ...(first.input_shape as number[])] : undefined)) as (number | null)[] | undefined;
    let previous = 'input';
    if (layerList[0]?.class_name !== 'InputLayer') {
      out.push({ name: 'input', className: 'InputLayer', type: 'input', kernel: [1, 1], stride: [1, 1], dilation: [1, 1], padding: 'valid', inputs: [], inputSize: [shape?.[1] ?? null, shape?.[2] ?? null] });
    }
    for (const l of layerList) {
      const layer = layerFromConfig(l.class_name, l.config, l.class_name === 'InputLayer' ? [] : [previous]);
      out.push(layer);
      previous = layer.name;
    }
    return out;
  }
  for (const l of layerList) {
    const inputs: string[] = [];
    for (const nodeEntry of l.inbound_nodes ?? []) {
      // tfjs: [[name, nodeIndex, tensorIndex, kwargs], …]; Keras 3: {args: [{config: {keras_history: [name, …]}}]}.
      if (Array.isArray(nodeEntry)) for (const input of nodeEntry) if (Array.isArray(input)) inputs.push(String(input[0]));
    }
    out.push(layerFromConfig(l.class_name, { ...l.config, name: l.name ?? l.config.name }, inputs));
  }
  return out;
}

interface State {
  rf: [number, number];
  jump: [number, number];
  size: [number | null, number | null];
  decoder: boolean;
}

function topologicalOrder(layers: RfLayer[]): RfLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const done = new Set<string>();
  const order: RfLayer[] = [];
  const visiting = new Set<string>();
  const visit = (l: RfLayer) => {
    if (done.has(l.name)) return;
    if (visiting.has(l.name)) throw new TypeError(`layer graph has a cycle at ${l.name}`);
    visiting.add(l.name);
    for (const name of l.inputs) {
      const input = byName.get(name);
      if (input === undefined) throw new TypeError(`layer ${l.name}: unknown input ${name}`);
      visit(input);
    }
    visiting.delete(l.name);
    done.add(l.name);
    order.push(l);
  };
  for (const l of layers) visit(l);
  return order;
}

function outSize(size: number | null, l: RfLayer, axis: 0 | 1): number | null {
  if (size === null) return null;
  const k = l.dilation[axis] * (l.kernel[axis] - 1) + 1;
  const s = l.stride[axis];
  switch (l.type) {
    case 'conv':
    case 'pool':
      return l.padding === 'same' ? Math.ceil(size / s) : Math.floor((size - k) / s) + 1;
    case 'deconv':
      return l.padding === 'same' ? size * s : (size - 1) * s + k;
    case 'upsample':
      return size * s;
    case 'crop':
      return size - (axis === 0 ? l.margins![0] + l.margins![1] : l.margins![2] + l.margins![3]);
    case 'pad':
      return size + (axis === 0 ? l.margins![0] + l.margins![1] : l.margins![2] + l.margins![3]);
    case 'global':
      return 1;
    default:
      return size;
  }
}

/** Receptive field table of a layer graph; `inputSize` overrides the model's input size. */
export function receptiveField(layers: RfLayer[], options: { inputSize?: [number, number] } = {}): RfResult {
  const order = topologicalOrder(layers);
  const states = new Map<string, State>();
  const rows: RfRow[] = [];
  const warnings: string[] = [];
  let inputExtent: [number | null, number | null] = [null, null];
  for (const l of order) {
    let state: State;
    if (l.type === 'input' || l.inputs.length === 0) {
      const size = options.inputSize ?? l.inputSize ?? [null, null];
      inputExtent = size;
      state = { rf: [1, 1], jump: [1, 1], size: [size[0], size[1]], decoder: false };
    } else {
      const ins = l.inputs.map((n) => states.get(n)!);
      const merged: State = {
        rf: [Math.max(...ins.map((s) => s.rf[0])), Math.max(...ins.map((s) => s.rf[1]))],
        jump: [Math.max(...ins.map((s) => s.jump[0])), Math.max(...ins.map((s) => s.jump[1]))],
        size: ins[0].size,
        decoder: ins.some((s) => s.decoder),
      };
      if (ins.some((s) => s.jump[0] !== merged.jump[0] || s.jump[1] !== merged.jump[1])) {
        warnings.push(`${l.name}: inputs have different strides (${ins.map((s) => s.jump.join('×')).join(', ')}); using the largest receptive field`);
      }
      state = { ...merged, rf: [...merged.rf], jump: [...merged.jump], size: [...merged.size] };
      for (const axis of [0, 1] as const) {
        const k = l.dilation[axis] * (l.kernel[axis] - 1) + 1;
        if (l.type === 'conv' || l.type === 'pool') {
          state.rf[axis] += (k - 1) * state.jump[axis];
          state.jump[axis] *= l.stride[axis];
        } else if (l.type === 'deconv') {
          state.jump[axis] /= l.stride[axis];
          state.rf[axis] += (l.kernel[axis] - 1) * state.jump[axis];
        } else if (l.type === 'upsample') {
          state.jump[axis] /= l.stride[axis];
        } else if (l.type === 'global') {
          state.rf[axis] = inputExtent[axis] ?? Infinity;
        }
        state.size[axis] = outSize(merged.size[axis], l, axis);
      }
      state.size = [state.size[0], state.size[1]];
      if (l.type === 'deconv' || l.type === 'upsample') state.decoder = true;
    }
    states.set(l.name, state);
    rows.push({
      name: l.name, className: l.className, kernel: l.kernel, stride: l.stride, dilation: l.dilation,
      outputSize: state.size, jump: state.jump, rf: state.rf, decoder: state.decoder || l.type === 'deconv' || l.type === 'upsample',
    });
  }
  let best: RfRow | undefined;
  for (const row of rows) {
    const layer = order.find((l) => l.name === row.name)!;
    if (row.decoder || (layer.type !== 'conv' && layer.type !== 'pool')) continue;
    if (best === undefined || row.jump[0] * row.jump[1] >= best.jump[0] * best.jump[1]) best = row;
  }
  if (best === undefined) throw new TypeError('no convolution or pooling layer before upsampling: no receptive field to report');
  return { rows, narrowest: best.name, rf: best.rf, jump: best.jump, warnings };
}

const fmtPair = (p: [number | null, number | null]): string => (p[0] === p[1] ? String(p[0] ?? '?') : `${p[0] ?? '?'}×${p[1] ?? '?'}`);

/** The per-layer table and the summary line (`picpac rf`). */
export function formatReceptiveField(result: RfResult): string {
  const header = ['layer', 'type', 'kernel', 'stride', 'dilation', 'output', 'jump', 'rf'];
  const body = result.rows.map((r) => [
    r.name + (r.name === result.narrowest ? ' *' : ''), r.className, fmtPair(r.kernel), fmtPair(r.stride), fmtPair(r.dilation),
    r.outputSize[0] === null ? '?' : `${r.outputSize[0]}×${r.outputSize[1]}`, fmtPair(r.jump), fmtPair(r.rf),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [
    line(header),
    ...body.map(line),
    '',
    `receptive field of the narrowest layer (${result.narrowest}, *): ${fmtPair(result.rf)} px at stride ${fmtPair(result.jump)}`,
    ...result.warnings.map((w) => `warning: ${w}`),
  ].join('\n') + '\n';
}
