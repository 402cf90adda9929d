// Model and optimizer state on disk, in TensorFlow.js's own layouts so other tools read them:
//   DIR/model.json   tfjs Layers format (modelTopology + weightsManifest → weights.bin), plus a
//                    `picpac` block (ModelMeta: how to feed the network and read its output)
//   DIR/weights.bin
//   DIR/optimizer.json + optimizer.bin   (snapshots only) the optimizer's slots, tfjs-encoded
// No tfjs-node file:// handlers are needed: artifacts go through withSaveHandler / fromMemory.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from './backend.ts';

/** How to feed a picpac-trained model and read its output (the XNN "model directory" contract). */
export interface ModelMeta {
  template: string;
  /** Input size used in training ([height, width]); predict resizes to it. */
  inputSize: [number, number];
  channels: number;
  /** Channel order of the input: picpac streams deliver BGR unless bgr2rgb. */
  channelOrder: 'BGR' | 'RGB';
  /** Per-channel mean subtracted (in channel order) before scaling. */
  mean: [number, number, number];
  /** Multiplier after mean subtraction. */
  inputScale: number;
  /** 'sigmoid': one logit channel; 'softmax': channels (background, foreground). */
  loss: 'sigmoid' | 'softmax';
  /** Output stride of the narrowest layer. */
  stride: number;
  step: number;
}

export async function saveModel(model: tfTypes.LayersModel, dir: string, meta: ModelMeta): Promise<void> {
  let artifacts: tfTypes.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const a = artifacts!;
  const weights = tf.io.CompositeArrayBuffer.join(a.weightData!);
  const json = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
    picpac: meta,
  };
  await writeFile(path.join(dir, 'weights.bin'), new Uint8Array(weights));
  await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
}

export async function readModelMeta(dir: string): Promise<ModelMeta> {
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { picpac?: ModelMeta };
  if (json.picpac === undefined) throw new Error(`${dir}/model.json has no picpac block (not written by picpac train)`);
  return json.picpac;
}

export async function loadModelFromDir(dir: string): Promise<{ model: tfTypes.LayersModel; meta: ModelMeta | undefined }> {
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object; weightsManifest: { paths: string[]; weights: tfTypes.io.WeightsManifestEntry[] }[]; picpac?: ModelMeta;
  };
  const specs: tfTypes.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const bytes = await readFile(path.join(dir, p));
      buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    }
  }
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: tf.io.concatenateArrayBuffers(buffers) }));
  return { model, meta: json.picpac };
}

type OptimizerWithBeta = tfTypes.Optimizer & { accBeta1?: tfTypes.Variable; accBeta2?: tfTypes.Variable };

/**
 * The optimizer's slots (iterations, moments) plus Adam's running β powers, which tfjs'
 * setWeights would recompute as pow(β, t+1) — a different float than the running product, so a
 * resumed run would drift from an uninterrupted one.
 */
export async function saveOptimizer(optimizer: tfTypes.Optimizer, dir: string): Promise<void> {
  const named = await optimizer.getWeights();
  const o = optimizer as OptimizerWithBeta;
  const extra = o.accBeta1 && o.accBeta2 ? [{ name: 'picpac/accBeta1', tensor: o.accBeta1 }, { name: 'picpac/accBeta2', tensor: o.accBeta2 }] : [];
  const { data, specs } = await tf.io.encodeWeights([...named, ...extra]);
  // getWeights() makes a fresh scalar for the iteration count (the slots are the live variables).
  for (const w of named) if (w.name === 'iter') w.tensor.dispose();
  await writeFile(path.join(dir, 'optimizer.bin'), new Uint8Array(tf.io.CompositeArrayBuffer.join(data)));
  await writeFile(path.join(dir, 'optimizer.json'), JSON.stringify({ className: optimizer.getClassName(), config: optimizer.getConfig(), specs }));
}

export async function loadOptimizerState(optimizer: tfTypes.Optimizer, dir: string): Promise<void> {
  const meta = JSON.parse(await readFile(path.join(dir, 'optimizer.json'), 'utf8')) as { className: string; specs: tfTypes.io.WeightsManifestEntry[] };
  if (meta.className !== optimizer.getClassName()) throw new Error(`snapshot optimizer is ${meta.className}, the run uses ${optimizer.getClassName()}`);
  const bytes = await readFile(path.join(dir, 'optimizer.bin'));
  const map = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, meta.specs);
  const list = meta.specs.filter((s) => !s.name.startsWith('picpac/')).map((s) => ({ name: s.name, tensor: map[s.name] }));
  await optimizer.setWeights(list);
  const o = optimizer as OptimizerWithBeta;
  if (o.accBeta1 && map['picpac/accBeta1']) o.accBeta1.assign(map['picpac/accBeta1'] as tfTypes.Scalar);
  if (o.accBeta2 && map['picpac/accBeta2']) o.accBeta2.assign(map['picpac/accBeta2'] as tfTypes.Scalar);
  tf.dispose(Object.values(map));
}
