// Two yardsticks for a float32 "decode only" stream, each run by stream-calibration.ts as its own
// `node` process (plain JavaScript, nothing of picpac loaded) and timed from spawn to exit:
// - decode: T worker threads each decode their share of SAMPLES images with libjpeg-turbo and
//   write each as float32 into one of two private batch buffers — the least work any float32
//   stream must do per sample (the JPEGs come from one file read up front);
// - read: the same, but each worker also preads every record from the file (page cache, into a
//   reused buffer), computes its CRC-32C (@node-rs/crc32) and posts one message per 8 samples to
//   the main thread — the leanest complete stream loop.
// usage: node decode-floor.cjs decode|read THREADS SAMPLES JPEGS_FILE OFFSETS_JSON
'use strict';
const { Worker } = require('node:worker_threads');
const { readFileSync } = require('node:fs');

const mode = process.argv[2];
const [threads, samples] = process.argv.slice(3, 5).map(Number);
const [jpegsPath, offsetsPath] = process.argv.slice(5, 7);
const offsets = JSON.parse(readFileSync(offsetsPath, 'utf8')); // [[offset, length], ...]
let jpegs;
if (mode === 'decode') {
  const file = readFileSync(jpegsPath);
  jpegs = new Uint8Array(new SharedArrayBuffer(file.length));
  jpegs.set(file);
}

const source = `
const { workerData, parentPort } = require('node:worker_threads');
const { openSync, readSync } = require('node:fs');
const turbo = require(workerData.turboPath);
const { mode, jpegs, offsets, from, to } = workerData;
const out = Buffer.allocUnsafeSlow(2048 * 2048 * 3); // the bench's images are <= 500x375
const batches = [new Float32Array(2048 * 2048 * 3), new Float32Array(2048 * 2048 * 3)];
const reads = mode === 'read' ? { fd: openSync(workerData.jpegsPath, 'r'), buffer: Buffer.allocUnsafeSlow(1 << 20), crc32c: require(workerData.crcPath).crc32c } : undefined;
let outcomes = [];
for (let s = from; s < to; s++) {
  const [offset, length] = offsets[s % offsets.length];
  let jpeg;
  if (reads) {
    readSync(reads.fd, reads.buffer, 0, length, offset);
    jpeg = reads.buffer.subarray(0, length);
    outcomes.push({ index: s, crc: reads.crc32c(jpeg) });
  } else {
    jpeg = jpegs.subarray(offset, offset + length);
  }
  const r = turbo.decompressSync(jpeg, out, { format: turbo.FORMAT_RGB });
  batches[s & 1].set(out.subarray(0, r.width * r.height * 3));
  if (outcomes.length === 8) {
    parentPort.postMessage(outcomes);
    outcomes = [];
  }
}
parentPort.postMessage('done');`;

const workerData = { mode, jpegs, offsets, jpegsPath, turboPath: require.resolve('@julusian/jpeg-turbo'), crcPath: require.resolve('@node-rs/crc32') };
let running = threads;
for (let t = 0; t < threads; t++) {
  const from = Math.floor((t * samples) / threads);
  const to = Math.floor(((t + 1) * samples) / threads);
  const worker = new Worker(source, { eval: true, workerData: { ...workerData, from, to } });
  worker.on('message', (message) => {
    if (message !== 'done') return;
    void worker.terminate();
    if (--running === 0) process.exitCode = 0;
  });
  worker.on('error', (error) => {
    console.error(error);
    process.exit(1);
  });
}
