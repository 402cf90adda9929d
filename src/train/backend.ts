// Pick the TensorFlow.js backend, best first, whichever imports (REFERENCE §4.4):
// @tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node (native libtensorflow; not installable
// offline, so never a dependency: detected at run time by dynamic import), then
// @tensorflow/tfjs-backend-wasm (with the gradient kernels it lacks, wasm-kernels.ts), then the
// pure-JS cpu backend (tiny shapes only). The choice is printed by the callers and recorded in
// params.json. PICPAC_TF_BACKEND (or the `backend` option) forces one.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { invalidParameterError } from '../errors.ts';
import { registerWasmGradientKernels } from './wasm-kernels.ts';

import { BACKEND_CHOICES } from './backend-choices.ts';
import type { BackendChoice } from './backend-choices.ts';

export { BACKEND_CHOICES } from './backend-choices.ts';
export type { BackendChoice } from './backend-choices.ts';

export interface BackendInfo {
  /** tfjs backend name: 'tensorflow' (tfjs-node or -gpu), 'wasm' or 'cpu'. */
  name: string;
  /** The package that provided it. */
  package: string;
  packageVersion: string;
  tfjsVersion: string;
  /** Kernels registered by picpac (wasm only). */
  registeredKernels: string[];
  /** Why better backends were skipped. */
  skipped: string[];
}

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

let current: BackendInfo | undefined;

/** Dynamic import that a type checker cannot resolve (the package may be absent). */
async function importOptional(pkg: string): Promise<void> {
  const name = pkg;
  await import(name);
}

/**
 * Initialise TensorFlow.js with the best available backend (once per process; later calls
 * return the same choice unless a different explicit backend is asked for).
 * @param [options.backend='auto'] 'auto', 'tensorflow-gpu', 'tensorflow', 'wasm' or 'cpu'; the
 *   environment variable PICPAC_TF_BACKEND overrides 'auto'
 */
export async function initBackend(options: { backend?: BackendChoice } = {}): Promise<BackendInfo> {
  // Production mode: no per-op NaN checks, and no "install tfjs-node" banner on stdout.
  tf.enableProdMode();
  let choice = options.backend ?? 'auto';
  if (choice === 'auto' && process.env.PICPAC_TF_BACKEND) choice = process.env.PICPAC_TF_BACKEND as BackendChoice;
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) throw invalidParameterError('backend', `one of ${BACKEND_CHOICES.join(', ')}`, choice);
  if (current !== undefined && (choice === 'auto' || backendMatches(current, choice))) {
    if (tf.getBackend() !== current.name) await tf.setBackend(current.name);
    return current;
  }
  const skipped: string[] = [];
  const candidates: BackendChoice[] = choice === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] : [choice];
  for (const candidate of candidates) {
    try {
      const info = await tryBackend(candidate);
      info.skipped = skipped;
      current = info;
      return info;
    } catch (error) {
      skipped.push(`${candidate}: ${firstLine(error)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised (${skipped.join('; ')})`);
}

function backendMatches(info: BackendInfo, choice: BackendChoice): boolean {
  if (choice === 'tensorflow-gpu') return info.package === '@tensorflow/tfjs-node-gpu';
  if (choice === 'tensorflow') return info.package === '@tensorflow/tfjs-node';
  return info.name === choice;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].slice(0, 160);
}

async function tryBackend(candidate: BackendChoice): Promise<BackendInfo> {
  const base = { tfjsVersion: tf.version.tfjs, registeredKernels: [] as string[], skipped: [] as string[] };
  switch (candidate) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const pkg = candidate === 'tensorflow' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu';
      await importOptional(pkg);
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} imported but the 'tensorflow' backend did not initialise`);
      return { ...base, name: 'tensorflow', package: pkg, packageVersion: versionOf(pkg) };
    }
    case 'wasm': {
      // Emscripten's Node glue adds process-wide uncaughtException / unhandledRejection handlers
      // that rethrow (and print the whole minified module with the error): take them back out.
      const before = { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
      await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
      for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
        for (const listener of process.listeners(event as 'uncaughtException') as unknown[]) {
          if (!(before[event] as unknown[]).includes(listener)) (process as unknown as { removeListener(e: string, l: unknown): void }).removeListener(event, listener);
        }
      }
      const registeredKernels = registerWasmGradientKernels();
      await tf.ready();
      return { ...base, name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', packageVersion: versionOf('@tensorflow/tfjs-backend-wasm'), registeredKernels };
    }
    case 'cpu':
    case 'auto': {
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
      return { ...base, name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', packageVersion: versionOf('@tensorflow/tfjs-backend-cpu') };
    }
  }
}

/** One line for logs: `backend wasm (@tensorflow/tfjs-backend-wasm 4.22.0, tfjs 4.22.0; …)`. */
export function describeBackend(info: BackendInfo): string {
  const extra = info.registeredKernels.length > 0 ? `; registered ${info.registeredKernels.join(', ')}` : '';
  const skipped = info.skipped.length > 0 ? `; skipped ${info.skipped.map((s) => s.split(':')[0]).join(', ')} (not importable)` : '';
  return `backend ${info.name} (${info.package} ${info.packageVersion}, tfjs ${info.tfjsVersion}${extra}${skipped})`;
}

export { tf };
