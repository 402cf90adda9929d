// Stream worker threads started before the stream that uses them is opened. A worker's boot — a
// V8 isolate, the worker bundle, the JPEG decoder's addon, the wasm kernels — took 130–150 ms
// before its first sample here (2 × AMD EPYC, Node 20), on top of the caller's own loading and
// opening of the store. Started first thing (`picpac stream` does, from its raw arguments), a
// spare boots while the caller does that work, then waits for its stream's data ({ type: 'init' },
// stream-worker.ts) and runs as any stream worker. This module is small on purpose: the CLI
// imports it before it loads the stream command.
import type { Worker } from 'node:worker_threads';
import { siblingModule, startTsWorker, terminateWorker } from './ts-worker.ts';

const spares: Worker[] = [];

/** The stream worker's module next to this one (.ts in the sources, .js in the build). */
export function streamWorkerEntry(): URL {
  return siblingModule('./stream-worker', import.meta.url);
}

/**
 * Start stream workers ahead of `ImageStream.open` so that `count` spares are waiting; the next
 * streams opened with `threads` ≥ 1 take them (a stream starts only what is missing). Idle spares
 * do not keep the process alive; stopSpareWorkers() ends the ones nobody took.
 */
export function prestartStreamWorkers(count: number): void {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`prestartStreamWorkers: count must be an integer >= 0, got ${count}`);
  while (spares.length < count) {
    const worker = startTsWorker(streamWorkerEntry(), { spare: true }, { name: `picpac-stream-spare-${spares.length}` });
    worker.unref();
    // A spare that dies before it is taken is dropped; its stream then starts a fresh worker.
    const drop = () => {
      const at = spares.indexOf(worker);
      if (at >= 0) spares.splice(at, 1);
    };
    worker.once('error', drop);
    worker.once('exit', drop);
    spares.push(worker);
  }
}

/** Up to `count` waiting spares, no longer spares (the caller owns them and sends 'init'). */
export function takeSpareWorkers(count: number): Worker[] {
  return spares.splice(0, count);
}

/** The spares waiting now (a copy of the list). */
export function spareWorkers(): readonly Worker[] {
  return [...spares];
}

/** End the spares nobody took. */
export async function stopSpareWorkers(): Promise<void> {
  await Promise.all(spares.splice(0).map(terminateWorker));
}
