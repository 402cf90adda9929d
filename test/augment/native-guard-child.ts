// Child process for test/augment/native-guard.test.ts: what it checks must end the process
// (an abort takes the test runner with it), so each case runs here and reports by exit code.
//   exit-mid-stream DB  — a two-thread stream asked for a batch, then process.exit(0) while the workers decode
//   stop MODE N JPEG|PATH — N times: start a native-guard-worker in MODE, let it run 0–20 ms, stop it
//                          (guarded: terminateWorker; 'napi-rs', 'lmdb' and 'crc32': plain terminate())
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { ImageStream } from '../../src/augment/stream/stream.ts';
import { startTsWorker, terminateWorker } from '../../src/augment/stream/ts-worker.ts';

const [command, ...args] = process.argv.slice(2);
const entry = new URL('./native-guard-worker.ts', import.meta.url);

if (command === 'exit-mid-stream') {
  const stream = await ImageStream.open(args[0], { batch: 1, loop: true, cache: 0, stratify: false, threads: 2 });
  void stream.next();
  // The workers have their first tasks: exit during their decodes (a few ms each at 1024²).
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
  process.exit(0);
} else if (command === 'stop') {
  const [mode, count, input] = args;
  const jpeg = mode === 'decode' || mode === 'napi-rs' ? new Uint8Array(await readFile(input)) : undefined;
  for (let i = 0; i < Number(count); i++) {
    const guarded = mode === 'decode';
    const data = { mode, jpeg, path: input };
    // The unguarded modes never enter the guard, and a plain terminate() ignores it anyway.
    const worker = startTsWorker(entry, data);
    await once(worker, 'message');
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    await (guarded ? terminateWorker(worker) : worker.terminate());
  }
  console.log(`stopped ${count}`);
} else {
  throw new Error(`unknown command ${command}`);
}
