// Start a worker_thread whose entry is a .ts module. Node 20 does not apply the parent's
// `--import tsx` loader to a worker's entry, so the worker boots from a tiny eval script that
// registers tsx's ESM hooks and then imports the entry (the pattern of fuzz/run.ts). When the
// entry is already JavaScript (a build), it is started directly.
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';

/**
 * @param entry file URL of the worker module (`new URL('./x.ts', import.meta.url)`)
 * @param workerData passed to the worker as `workerData` (structured clone; SharedArrayBuffers shared)
 * @param options further Worker options (resourceLimits, name, …); `eval` and `workerData` are set here
 */
export function startTsWorker(entry: URL | string, workerData?: unknown, options: Omit<WorkerOptions, 'eval' | 'workerData'> = {}): Worker {
  const href = typeof entry === 'string' ? entry : entry.href;
  if (!/\.m?ts$/.test(new URL(href).pathname)) return new Worker(new URL(href), { ...options, workerData });
  const bootstrap = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true, workerData });
}
