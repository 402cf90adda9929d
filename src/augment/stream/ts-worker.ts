// Start a worker_thread whose entry is a .ts module (development, tests) or the compiled .js
// module of the build (dist/). Node 20 does not apply the parent's `--import tsx` loader to a
// worker's entry, so a .ts entry boots from a tiny eval script that registers tsx's ESM hooks
// and then imports the entry. tsx is resolved here, from this file, to an absolute URL: an eval
// worker resolves bare specifiers from the process's working directory, which may be anywhere.
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';

/**
 * The URL of a worker module next to the caller, with the caller's own extension: `.ts` when
 * running the sources, `.js` when running the build.
 * @param baseName module name without extension, relative to the caller (`./stream-worker`)
 * @param callerUrl the caller's `import.meta.url`
 */
export function siblingModule(baseName: string, callerUrl: string): URL {
  const extension = new URL(callerUrl).pathname.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`${baseName}${extension}`, callerUrl);
}

/**
 * @param entry file URL of the worker module (`siblingModule('./x', import.meta.url)`)
 * @param workerData passed to the worker as `workerData` (structured clone; SharedArrayBuffers shared)
 * @param options further Worker options (resourceLimits, name, …); `eval` and `workerData` are set here
 */
export function startTsWorker(entry: URL | string, workerData?: unknown, options: Omit<WorkerOptions, 'eval' | 'workerData'> = {}): Worker {
  const href = typeof entry === 'string' ? entry : entry.href;
  if (!/\.m?ts$/.test(new URL(href).pathname)) return new Worker(new URL(href), { ...options, workerData });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true, workerData });
}
