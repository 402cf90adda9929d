// Stopping a worker thread that is inside @julusian/jpeg-turbo aborts the whole process.
//
// `worker.terminate()` — and `process.exit()` in the main thread, which terminates every worker —
// makes the next N-API call of the worker fail; that binding is built with C++ exceptions and
// without NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS, so the failure ends in std::terminate:
// "terminate called after throwing an instance of 'Napi::Error'", SIGABRT, exit code 134. sharp
// defines the macro; @napi-rs/image, lmdb and @node-rs/crc32 (napi-rs and lmdb-js bindings) do not
// abort when terminated inside a call (test/augment/native-guard.test.ts), so only this one is guarded.
//
// So a worker marks the time it spends inside such a call in one shared Int32 (the guard), and a
// parent stops a worker only outside it: the parent sets STOP and waits while INSIDE is set; a
// worker that meets STOP on its way in or out of a call parks (Atomics.wait, which terminate()
// interrupts safely) instead of calling again. A native call cannot be interrupted by terminate()
// anyway (V8 stops a thread only when it returns to JavaScript), so the wait costs no time that
// terminate() would not. Two atomic operations per call: nothing next to a decode.
//
// A worker adopts the guard in its `workerData` when this module loads, so every thread that
// decodes with picpac — picpac's own workers and a program's — is covered without a call.
import { workerData } from 'node:worker_threads';

const INSIDE = 1;
const STOP = 2;

/** The key of the guard's SharedArrayBuffer in a worker's `workerData` (set by startTsWorker). */
export const NATIVE_GUARD_KEY = 'picpacNativeGuard';

/** This thread's guard; undefined on the main thread and in workers not started by picpac. */
let guard: Int32Array | undefined;

/** A fresh guard for a worker about to start (two Int32: the state and a never-notified park word). */
export function createNativeGuard(): SharedArrayBuffer {
  return new SharedArrayBuffer(8);
}

/**
 * Use the guard in `data` (under NATIVE_GUARD_KEY), if any. Done on load with this thread's
 * `workerData`; call it only for a guard that reaches the worker another way.
 */
export function adoptNativeGuard(data: unknown): void {
  const buffer = (data as Record<string, unknown> | null | undefined)?.[NATIVE_GUARD_KEY];
  if (buffer instanceof SharedArrayBuffer) guard = new Int32Array(buffer);
}

adoptNativeGuard(workerData);

function park(cell: Int32Array): never {
  for (;;) Atomics.wait(cell, 1, 0);
}

/** Before a call into a binding that must not be terminated inside; pair with leaveNativeCall in `finally`. */
export function enterNativeCall(): void {
  if (guard !== undefined && (Atomics.or(guard, 0, INSIDE) & STOP) !== 0) park(guard);
}

/** After the call (also when it threw). */
export function leaveNativeCall(): void {
  if (guard === undefined) return;
  if ((Atomics.and(guard, 0, ~INSIDE) & STOP) !== 0) {
    Atomics.notify(guard, 0);
    park(guard);
  }
}

/** `call()` between enterNativeCall and leaveNativeCall. */
export function guardedNativeCall<T>(call: () => T): T {
  enterNativeCall();
  try {
    return call();
  } finally {
    leaveNativeCall();
  }
}

/** Forbid further guarded calls in the worker of `cell`; the state word after that. */
function requestStop(cell: Int32Array): number {
  return Atomics.or(cell, 0, STOP) | STOP;
}

/**
 * Parent side, blocking (for `process.on('exit')`, where nothing asynchronous runs any more):
 * forbid further native calls and wait until the worker is out of the one it is in.
 */
export function stopNativeCallsSync(buffer: SharedArrayBuffer): void {
  const cell = new Int32Array(buffer);
  let state = requestStop(cell);
  while ((state & INSIDE) !== 0) {
    Atomics.wait(cell, 0, state, 1000);
    state = Atomics.load(cell, 0);
  }
}

/** Parent side, without blocking the event loop: resolves once the worker is outside every guarded call. */
export async function stopNativeCalls(buffer: SharedArrayBuffer): Promise<void> {
  const cell = new Int32Array(buffer);
  let state = requestStop(cell);
  while ((state & INSIDE) !== 0) {
    const waited = Atomics.waitAsync(cell, 0, state, 1000);
    if (waited.async) await waited.value;
    state = Atomics.load(cell, 0);
  }
}
