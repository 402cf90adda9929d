// Stopping worker threads that may be inside @julusian/jpeg-turbo (src/augment/pixels/native-guard.ts).
// Terminating a worker inside that binding aborts the whole process (SIGABRT, "terminate called
// after throwing an instance of 'Napi::Error'"): before the guard, a process.exit() during a
// two-thread stream (this file's case) aborted in 6 runs of 10, and the viewer's render deadline aborted the server
// now and then. The cases that could abort run in child processes and report by exit code.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { open } from 'lmdb';
import { syncDecoderChain } from '../../src/augment/pixels/decode.ts';
import { createNativeGuard, stopNativeCalls } from '../../src/augment/pixels/native-guard.ts';
import { startTsWorker, terminateWorker } from '../../src/augment/stream/ts-worker.ts';
import { ImageCodec } from '../../src/format/layout.ts';
import { encode, pixels, tempDir, writeFixture } from './stream-fixtures.ts';

const CHILD = fileURLToPath(new URL('./native-guard-child.ts', import.meta.url));
const WORKER = new URL('./native-guard-worker.ts', import.meta.url);

let dir: string;
let cleanup: () => Promise<void>;
let jpegPath: string;
before(async () => {
  ({ dir, cleanup } = await tempDir());
  jpegPath = `${dir}/photo-sized.jpg`;
  await writeFile(jpegPath, await encode(pixels(1024, 768, 7), 1024, 768, 3, 'jpeg'));
});
after(() => cleanup());

function child(...args: string[]): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CHILD, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr };
}

function assertClean(run: ReturnType<typeof child>, what: string): void {
  assert.doesNotMatch(run.stderr, /terminate called|Napi::Error|FATAL ERROR/, `${what}: ${run.stderr}`);
  assert.equal(run.signal, null, `${what}: killed by ${run.signal}; stderr: ${run.stderr}`);
  assert.equal(run.status, 0, `${what}: exit ${run.status}; stderr: ${run.stderr}`);
}

const hasJpegTurbo = syncDecoderChain(ImageCodec.jpeg)[0]?.name === '@julusian/jpeg-turbo';
const skipWithoutTurbo = hasJpegTurbo ? false : '@julusian/jpeg-turbo is not installed: nothing to guard';

describe('native-call guard', () => {
  test('terminateWorker waits while a worker is inside a guarded call; the worker then parks and is terminated', async () => {
    const release = new Int32Array(new SharedArrayBuffer(4));
    const worker = startTsWorker(WORKER, { mode: 'hold', release });
    const messages: string[] = [];
    worker.on('message', (m: string) => messages.push(m));
    try {
      await once(worker, 'message'); // 'inside'
      let stopped = false;
      const stopping = terminateWorker(worker).then((code) => {
        stopped = true;
        return code;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(stopped, false, 'not terminated while inside the call');
      Atomics.store(release, 0, 1);
      Atomics.notify(release, 0);
      assert.equal(await stopping, 1, 'terminated (exit code 1), not exited on its own');
      assert.deepEqual(messages, ['inside'], "parked on the way out: 'left' was never posted");
    } finally {
      Atomics.store(release, 0, 1);
      Atomics.notify(release, 0);
      await worker.terminate();
    }
  });

  test('after stopNativeCalls a worker outside a call never enters one again: it parks', async () => {
    const ownGuard = createNativeGuard();
    const worker = startTsWorker(WORKER, { mode: 'calls', ownGuard });
    const messages: string[] = [];
    worker.on('message', (m: string) => messages.push(m));
    try {
      await once(worker, 'message'); // 'ready'
      worker.postMessage('go');
      await once(worker, 'message');
      assert.deepEqual(messages, ['ready', 'called']);
      await stopNativeCalls(ownGuard); // outside: resolves at once
      worker.postMessage('go');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(messages, ['ready', 'called'], 'the second call parked on its way in');
    } finally {
      await worker.terminate();
    }
  });

  test('process.exit() while two stream workers decode: the process exits with its own code', { skip: skipWithoutTurbo, timeout: 300_000 }, async () => {
    const db = await writeFixture(`${dir}/large.picpac`, { count: 16, width: 1024, height: 1024 });
    for (let run = 0; run < 8; run++) assertClean(child('exit-mid-stream', db), `run ${run}`);
  });

  test('terminateWorker stops workers in a libjpeg-turbo decode loop, 20 times, without aborting', { skip: skipWithoutTurbo, timeout: 300_000 }, () => {
    const run = child('stop', 'decode', '20', jpegPath);
    assertClean(run, 'guarded stops');
    assert.match(run.stdout, /stopped 20/);
  });

  test('@napi-rs/image, lmdb and @node-rs/crc32 need no guard: terminate() inside their calls, 12 times each, does not abort', { timeout: 300_000 }, async () => {
    const lmdbPath = `${dir}/terminate.lmdb`;
    const db = open({ path: lmdbPath, noSync: true });
    for (let i = 0; i < 64; i++) await db.put(i, new Uint8Array(100_000).fill(i));
    await db.close();
    for (const [mode, input] of [['napi-rs', jpegPath], ['lmdb', lmdbPath], ['crc32', jpegPath]]) {
      const run = child('stop', mode, '12', input);
      assertClean(run, `${mode}, unguarded`);
      assert.match(run.stdout, /stopped 12/);
    }
  });
});
