// Network templates, as pure data (the receptive-field program reads them without TensorFlow.js)
// plus the one builder that turns them into a tfjs Layers model.
//
// `fcn` is XNN's template (REFERENCE §2.3.2): conv 5×5/2 (100) → max-pool 2/2 → conv 5×5/2 (200)
// → max-pool 2/2 → conv 3×3 (300) → conv 3×3 (300) → 1×1 score conv → transposed convolution,
// kernel 32, stride 16, bilinear-initialised, back to the input size. Caffe's pad-50-then-crop
// trick is replaced by 'same' padding (output = input size for inputs divisible by 16); the
// dropout layer is left out so that a resumed run repeats the uninterrupted one bit for bit.
// Receptive field of the score layer: 95 px at stride 16 (§2.4).
//
// `fcn-tiny` keeps the stride 16 and the decoder but uses 3×3 convs with 16–64 filters, pooling
// after each: ≈ 85 k weights, minutes on 2 CPU cores at 128×128; receptive field 78 px.
import type * as tfTypes from '@tensorflow/tfjs';
import { invalidParameterError } from '../errors.ts';

export type Padding = 'same' | 'valid';

export type TemplateLayer =
  | { type: 'conv'; name: string; filters: number | 'classes'; kernel: number; stride: number; dilation?: number; padding: Padding; activation: 'relu' | 'linear' }
  | { type: 'maxpool'; name: string; pool: number; stride: number; padding: Padding }
  | { type: 'deconv'; name: string; filters: 'classes'; kernel: number; stride: number; padding: Padding; init: 'bilinear' };

export interface Template {
  name: string;
  description: string;
  /** Output stride of the narrowest layer: inputs must be multiples of it (round_div). */
  stride: number;
  layers: TemplateLayer[];
  /** Suggested defaults for `picpac train`. */
  defaults: { size: number; batch: number; lr: number };
}

export const TEMPLATES: Record<string, Template> = {
  fcn: {
    name: 'fcn',
    description: "XNN's fcn: conv5/2 (100), pool, conv5/2 (200), pool, conv3 (300) ×2, 1×1 score, deconv 32/16",
    stride: 16,
    defaults: { size: 256, batch: 4, lr: 1e-3 },
    layers: [
      { type: 'conv', name: 'conv1', filters: 100, kernel: 5, stride: 2, padding: 'same', activation: 'relu' },
      { type: 'maxpool', name: 'pool1', pool: 2, stride: 2, padding: 'same' },
      { type: 'conv', name: 'conv2', filters: 200, kernel: 5, stride: 2, padding: 'same', activation: 'relu' },
      { type: 'maxpool', name: 'pool2', pool: 2, stride: 2, padding: 'same' },
      { type: 'conv', name: 'conv3', filters: 300, kernel: 3, stride: 1, padding: 'same', activation: 'relu' },
      { type: 'conv', name: 'conv4', filters: 300, kernel: 3, stride: 1, padding: 'same', activation: 'relu' },
      { type: 'conv', name: 'score', filters: 'classes', kernel: 1, stride: 1, padding: 'same', activation: 'linear' },
      { type: 'deconv', name: 'upscore', filters: 'classes', kernel: 32, stride: 16, padding: 'same', init: 'bilinear' },
    ],
  },
  'fcn-tiny': {
    name: 'fcn-tiny',
    description: 'small fcn for CPUs: conv3 (16, 32, 48, 64) each + pool 2/2, conv3 (64), 1×1 score, deconv 32/16',
    stride: 16,
    defaults: { size: 128, batch: 8, lr: 3e-3 },
    layers: [
      { type: 'conv', name: 'conv1', filters: 16, kernel: 3, stride: 1, padding: 'same', activation: 'relu' },
      { type: 'maxpool', name: 'pool1', pool: 2, stride: 2, padding: 'same' },
      { type: 'conv', name: 'conv2', filters: 32, kernel: 3, stride: 1, padding: 'same', activation: 'relu' },
      { type: 'maxpool', name: 'pool2', pool: 2, stride: 2, padding: 'same' },
      { type: 'conv', name: 'conv3', filters: 48, kernel: 3, stride: 1, padding: 'same', activation: 'relu' },
      { type: 'maxpool', name: 'pool3', pool: 2, stride: 2, padding: 'same' },
      { type: 'conv', name: 'conv4', filters: 64, kernel: 3, stride: 1, padding: 'same', activation: 'relu' },
      { type: 'maxpool', name: 'pool4', pool: 2, stride: 2, padding: 'same' },
      { type: 'conv', name: 'conv5', filters: 64, kernel: 3, stride: 1, padding: 'same', activation: 'relu' },
      { type: 'conv', name: 'score', filters: 'classes', kernel: 1, stride: 1, padding: 'same', activation: 'linear' },
      { type: 'deconv', name: 'upscore', filters: 'classes', kernel: 32, stride: 16, padding: 'same', init: 'bilinear' },
    ],
  },
};

export const TEMPLATE_NAMES = Object.keys(TEMPLATES);

export function getTemplate(name: string): Template {
  if (!Object.hasOwn(TEMPLATES, name)) throw invalidParameterError('template', `one of ${TEMPLATE_NAMES.join(', ')}`, name);
  return TEMPLATES[name];
}

export interface BuildOptions {
  /** Input height and width (multiples of the template's stride). */
  height: number;
  width: number;
  channels: number;
  /** 1 (sigmoid loss) or 2 (softmax: background, foreground). */
  classes: number;
  /** Seed of the weight initialisers (same seed, same initial weights). */
  seed: number;
}

/** Bilinear upsampling kernel [k, k, out, in] (identity across channels), as Caffe's "bilinear" filler. */
export function bilinearKernel(kernel: number, stride: number, channels: number): Float32Array {
  const centre = kernel % 2 === 1 ? stride - 1 : stride - 0.5;
  const values = new Float32Array(kernel * kernel * channels * channels);
  for (let y = 0; y < kernel; y++) {
    for (let x = 0; x < kernel; x++) {
      const w = (1 - Math.abs(y - centre) / stride) * (1 - Math.abs(x - centre) / stride);
      for (let c = 0; c < channels; c++) values[((y * kernel + x) * channels + c) * channels + c] = w;
    }
  }
  return values;
}

/** Build the template as a tfjs Sequential model (logits out: [B, H, W, classes]). */
export function buildModel(tf: typeof tfTypes, template: Template, options: BuildOptions): tfTypes.Sequential {
  const { height, width, channels, classes, seed } = options;
  for (const [name, value] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(value) || value < template.stride || value % template.stride !== 0) {
      throw invalidParameterError(name, `a positive multiple of the template's stride ${template.stride}`, value);
    }
  }
  const model = tf.sequential({ name: template.name });
  template.layers.forEach((layer, k) => {
    const first = k === 0 ? { inputShape: [height, width, channels] } : {};
    switch (layer.type) {
      case 'conv':
        model.add(tf.layers.conv2d({
          ...first,
          name: layer.name,
          filters: layer.filters === 'classes' ? classes : layer.filters,
          kernelSize: layer.kernel,
          strides: layer.stride,
          dilationRate: layer.dilation ?? 1,
          padding: layer.padding,
          activation: layer.activation,
          kernelInitializer: tf.initializers.heNormal({ seed: seed * 1000 + k }),
          biasInitializer: 'zeros',
        }));
        break;
      case 'maxpool':
        model.add(tf.layers.maxPooling2d({ ...first, name: layer.name, poolSize: layer.pool, strides: layer.stride, padding: layer.padding }));
        break;
      case 'deconv':
        model.add(tf.layers.conv2dTranspose({
          ...first,
          name: layer.name,
          filters: classes,
          kernelSize: layer.kernel,
          strides: layer.stride,
          padding: layer.padding,
          kernelInitializer: 'zeros', // replaced by the bilinear kernel below
          biasInitializer: 'zeros',
        }));
        break;
    }
  });
  for (const layer of template.layers) {
    if (layer.type !== 'deconv') continue;
    const target = model.getLayer(layer.name);
    const [kernelVar, biasVar] = target.getWeights();
    const kernel = tf.tensor(bilinearKernel(layer.kernel, layer.stride, classes), kernelVar.shape);
    target.setWeights([kernel, biasVar]);
    kernel.dispose();
  }
  return model;
}
