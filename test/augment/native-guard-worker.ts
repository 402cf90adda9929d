// Worker for test/augment/native-guard.test.ts (started through startTsWorker or a plain Worker).
// workerData.mode:
//   'decode'  — decodeImageSync(workerData.jpeg) forever: the first JPEG decoder, libjpeg-turbo
//   'hold'    — enterNativeCall, then wait for workerData.release[0] to become 1 (a stand-in for a
//               long native call), then leaveNativeCall and post 'left'
//   'calls'   — with workerData.ownGuard as its guard: on each message, enterNativeCall,
//               leaveNativeCall, post 'called'
//   'napi-rs' — @napi-rs/image decodes workerData.jpeg forever, unguarded
//   'lmdb'    — lmdb reads at workerData.path forever, unguarded
//   'crc32'   — @node-rs/crc32 (the reader's CRC-32C) over 4 MiB forever, unguarded
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { decodeImageSync } from '../../src/augment/pixels/decode.ts';
import { NATIVE_GUARD_KEY, adoptNativeGuard, enterNativeCall, leaveNativeCall } from '../../src/augment/pixels/native-guard.ts';

const data = workerData as { mode: string; jpeg?: Uint8Array; path?: string; release?: Int32Array; ownGuard?: SharedArrayBuffer };
// The guard startTsWorker put in workerData was adopted when native-guard.ts loaded; 'calls' swaps in its own.
if (data.ownGuard !== undefined) adoptNativeGuard({ [NATIVE_GUARD_KEY]: data.ownGuard });
const require = createRequire(import.meta.url);

if (data.mode === 'decode') {
  decodeImageSync(data.jpeg!);
  parentPort!.postMessage('ready');
  for (;;) decodeImageSync(data.jpeg!);
} else if (data.mode === 'hold') {
  enterNativeCall();
  parentPort!.postMessage('inside');
  Atomics.wait(data.release!, 0, 0);
  leaveNativeCall();
  parentPort!.postMessage('left'); // never sent when a stop was asked for meanwhile: the thread parks
} else if (data.mode === 'calls') {
  parentPort!.on('message', () => {
    enterNativeCall();
    leaveNativeCall();
    parentPort!.postMessage('called');
  });
  parentPort!.postMessage('ready');
} else if (data.mode === 'napi-rs') {
  const { Transformer } = require('@napi-rs/image') as { Transformer: new (bytes: Uint8Array) => { rawPixelsSync(): Uint8Array } };
  parentPort!.postMessage('ready');
  for (;;) new Transformer(data.jpeg!).rawPixelsSync();
} else if (data.mode === 'lmdb') {
  const { open } = require('lmdb') as typeof import('lmdb');
  const db = open({ path: data.path!, noSync: true });
  parentPort!.postMessage('ready');
  for (let i = 0; ; i++) db.getBinary(i % 64);
} else if (data.mode === 'crc32') {
  const { crc32c } = require('@node-rs/crc32') as { crc32c(bytes: Uint8Array): number };
  const bytes = new Uint8Array(4 << 20).fill(7);
  parentPort!.postMessage('ready');
  for (;;) crc32c(bytes);
}
