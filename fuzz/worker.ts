// Fuzz worker: mutates seeds and runs the target forever; the main thread watches progress
// through shared memory so a hang can be caught and its input saved.
import { parentPort, workerData } from 'node:worker_threads';
import { mutate } from './mutate.ts';
import { runTarget } from './target.ts';

interface WorkerInit {
  seeds: Uint8Array[];
  shared: SharedArrayBuffer;
  rngSeed: number;
}

const { seeds, shared, rngSeed } = workerData as WorkerInit;
const counters = new Int32Array(shared, 0, 2); // [execs, current input length]
const current = new Uint8Array(shared, 8);

let state = rngSeed >>> 0 || 1;
const rand = {
  int(maxExclusive: number): number {
    // xorshift32: deterministic for a seed, good enough to pick mutations.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return maxExclusive <= 1 ? 0 : state % maxExclusive;
  },
};

const outcomeCounts = new Map<string, number>();
for (;;) {
  const seed = seeds[rand.int(seeds.length)];
  const input = mutate(seed, rand, seeds[rand.int(seeds.length)]);
  const length = Math.min(input.length, current.length);
  current.set(input.subarray(0, length));
  Atomics.store(counters, 1, length);
  try {
    const { outcomes } = await runTarget(input);
    for (const o of outcomes) outcomeCounts.set(o, (outcomeCounts.get(o) ?? 0) + 1);
  } catch (err) {
    parentPort!.postMessage({ type: 'crash', input, error: (err as Error)?.stack ?? String(err) });
  }
  const execs = Atomics.add(counters, 0, 1) + 1;
  if (execs % 200 === 0) parentPort!.postMessage({ type: 'stats', outcomes: Object.fromEntries(outcomeCounts) });
}
