// Start a worker_thread whose entry is a .ts module (development, tests) or the compiled .js
// module of the build (dist/). Node 20 does not apply the parent's `--import tsx` loader to a
// worker's entry, so a .ts entry boots from a tiny eval script that registers tsx's ESM hooks
// and then imports the entry. tsx is resolved here, from this file, to an absolute URL: an eval
// worker resolves bare specifiers from the process's working directory, which may be anywhere.
//
// Every worker started here gets a native-call guard (../pixels/native-guard.ts): stop it with
// terminateWorker(), never worker.terminate(), and a process.exit() in this thread waits for each
// live worker to leave its libjpeg-turbo call before Node terminates it.
import { Worker } from 'node:worker_threads';
import type { WorkerOptions } from 'node:worker_threads';
import { NATIVE_GUARD_KEY, createNativeGuard, stopNativeCalls, stopNativeCallsSync } from '../pixels/native-guard.ts';

/** Guards of the workers started here and not yet exited. */
const liveGuards = new Map<Worker, SharedArrayBuffer>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' listeners run before Node terminates the workers (process.exit, the end of the event
  // loop, an uncaught exception).
  process.on('exit', () => {
    for (const buffer of liveGuards.values()) stopNativeCallsSync(buffer);
  });
}

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
 * The Node flags a worker inherits — the parent's, minus `--input-type`: it describes `-e`/stdin
 * input, and Node refuses to start a worker whose entry is a file while it is set
 * (ERR_INPUT_TYPE_NOT_ALLOWED), so a program run as `node --input-type=module -e "…"` could start
 * no stream worker. Undefined when there is nothing to drop (Node's default: inherit).
 */
export function workerExecArgv(parentArgv: readonly string[] = process.execArgv): string[] | undefined {
  const kept: string[] = [];
  for (let i = 0; i < parentArgv.length; i++) {
    if (parentArgv[i] === '--input-type') i++; // and its value
    else if (!parentArgv[i].startsWith('--input-type=')) kept.push(parentArgv[i]);
  }
  return kept.length === parentArgv.length ? undefined : kept;
}

/**
 * @param entry file URL of the worker module (`siblingModule('./x', import.meta.url)`)
 * @param data passed to the worker as `workerData` (structured clone; SharedArrayBuffers shared),
 *   with the native-call guard added under NATIVE_GUARD_KEY (adopted when the worker loads native-guard.ts)
 * @param options further Worker options (resourceLimits, name, …); `eval` and `workerData` are set here
 */
export function startTsWorker(entry: URL | string, data: object = {}, options: Omit<WorkerOptions, 'eval' | 'workerData'> = {}): Worker {
  const guard = createNativeGuard();
  const workerData = { ...data, [NATIVE_GUARD_KEY]: guard };
  const href = typeof entry === 'string' ? entry : entry.href;
  let worker: Worker;
  const execArgv = options.execArgv ?? workerExecArgv();
  if (!/\.m?ts$/.test(new URL(href).pathname)) worker = new Worker(new URL(href), { ...options, ...(execArgv && { execArgv }), workerData });
  else {
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(href)}); })`;
    worker = new Worker(bootstrap, { ...options, ...(execArgv && { execArgv }), eval: true, workerData });
  }
  installExitHook();
  liveGuards.set(worker, guard);
  worker.once('exit', () => liveGuards.delete(worker));
  return worker;
}

/**
 * Stop a worker started by startTsWorker: once it is outside any libjpeg-turbo call (it stays
 * out), terminate it. Resolves with its exit code, as `worker.terminate()` does.
 */
export async function terminateWorker(worker: Worker): Promise<number> {
  const guard = liveGuards.get(worker);
  if (guard !== undefined) await stopNativeCalls(guard);
  return worker.terminate();
}
