// Mutation fuzzer over the golden vectors: `npm run fuzz -- --seconds N [--seed S]`.
// Finds crashes (any error that is not a PicpacError) and hangs (no progress for 10 s) in the
// readers, recovery and verifier; saves each input to fuzz/crashes/ for committing as a
// regression under fuzz/regressions/. Exit 1 when anything was found.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string', default: '1' }, 'hang-seconds': { type: 'string', default: '10' } },
});
const seconds = Number(values.seconds);
const hangSeconds = Number(values['hang-seconds']);
if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, got ${values.seconds}`);

function seedFiles(): string[] {
  const dirs = [join(root, 'test/vectors/v2'), join(root, 'test/vectors/v1'), join(root, 'fuzz/regressions'), resolve(root, '../shared/vectors/legacy-v1')];
  const out: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (/\.(picpac|db|bin)$/.test(name) && statSync(p).size <= 1 << 20) out.push(p);
    }
  }
  return out;
}

const files = seedFiles();
const seeds = files.map((f) => new Uint8Array(readFileSync(f)));
console.log(`fuzz: ${seeds.length} seeds, ${seconds} s, hang after ${hangSeconds} s without progress`);

const crashDir = join(root, 'fuzz/crashes');
const found: string[] = [];
function save(input: Uint8Array, why: string, detail: string): void {
  mkdirSync(crashDir, { recursive: true });
  const name = `${why}-${createHash('sha256').update(input).digest('hex').slice(0, 16)}.bin`;
  writeFileSync(join(crashDir, name), input);
  writeFileSync(join(crashDir, name + '.txt'), detail);
  found.push(name);
  console.log(`\n${why.toUpperCase()}: saved fuzz/crashes/${name}\n${detail.split('\n').slice(0, 6).join('\n')}`);
}

const SHARED_INPUT_BYTES = 2 << 20;
let totalExecs = 0;
let lastOutcomes: Record<string, number> = {};
let workerIndex = 0;

function startWorker(): { worker: Worker; counters: Int32Array; shared: SharedArrayBuffer } {
  const shared = new SharedArrayBuffer(8 + SHARED_INPUT_BYTES);
  // Node 20 does not apply --import loaders to a worker's .ts entry: register tsx inside it.
  const entry = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(bootstrap, {
    eval: true,
    workerData: { seeds, shared, rngSeed: Number(values.seed) * 7919 + workerIndex++ },
  });
  worker.on('message', (m: { type: string; input?: Uint8Array; error?: string; outcomes?: Record<string, number> }) => {
    if (m.type === 'crash') save(m.input!, 'crash', m.error!);
    if (m.type === 'stats') lastOutcomes = m.outcomes!;
  });
  worker.on('error', (err) => save(new Uint8Array(0), 'worker-error', err.stack ?? String(err)));
  return { worker, counters: new Int32Array(shared, 0, 2), shared };
}

let current = startWorker();
const started = Date.now();
let lastExecs = 0;
let lastProgress = Date.now();
await new Promise<void>((done) => {
  const timer = setInterval(async () => {
    const execs = Atomics.load(current.counters, 0);
    if (execs !== lastExecs) {
      lastExecs = execs;
      lastProgress = Date.now();
    } else if (Date.now() - lastProgress > hangSeconds * 1000) {
      const length = Atomics.load(current.counters, 1);
      save(new Uint8Array(current.shared, 8, length).slice(), 'hang', `no progress for ${hangSeconds} s`);
      await current.worker.terminate();
      totalExecs += execs;
      current = startWorker();
      lastExecs = 0;
      lastProgress = Date.now();
    }
    const elapsed = (Date.now() - started) / 1000;
    process.stderr.write(`\r${elapsed.toFixed(0)} s, ${totalExecs + lastExecs} execs, ${((totalExecs + lastExecs) / elapsed).toFixed(0)}/s, found ${found.length}   `);
    if (elapsed >= seconds) {
      clearInterval(timer);
      totalExecs += Atomics.load(current.counters, 0);
      await current.worker.terminate();
      done();
    }
  }, 500);
});
console.log(`\nfuzz: ${totalExecs} executions in ${seconds} s; outcomes of the last window: ${JSON.stringify(lastOutcomes)}`);
console.log(found.length === 0 ? 'fuzz: no crash, hang or untyped error found' : `fuzz: FOUND ${found.length}: ${found.join(', ')}`);
process.exit(found.length === 0 ? 0 : 1);
