// Quick measurement (not a test, not part of the bench grid): sequential scan of a hot ~500 MB
// file of 16 KB records — plain 4 MiB FileHandle.read loop vs reader.scan() without and with
// checksums, plus open time. Usage: node --import tsx bench/engine-scan-measure.ts [file]
import { open, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PicpacReader } from '../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../src/engine/picpac/picpac-writer.ts';
import { installNativeCrc32c } from '../src/engine/picpac/crc-native.ts';

const RECORD_BYTES = 16 << 10;
const TOTAL_BYTES = 500 << 20;
const file = process.argv[2] ?? path.join(tmpdir(), `picpac-scan-${process.pid}.picpac`);
const keep = process.argv[2] !== undefined;

async function ensureFile(): Promise<void> {
  try {
    await stat(file);
    return;
  } catch {}
  const t0 = performance.now();
  const w = await PicpacWriter.create(file, { fsyncOnClose: false });
  const bytes = new Uint8Array(RECORD_BYTES);
  for (let i = 0; i < TOTAL_BYTES / RECORD_BYTES; i++) {
    bytes[0] = i & 0xff;
    const p = w.append({ label: i % 10, fields: [{ kind: 'bytes', bytes: bytes.slice() }] });
    if (i % 256 === 255) await p;
  }
  await w.close();
  const s = (performance.now() - t0) / 1000;
  console.log(`write: ${(TOTAL_BYTES / 2 ** 20 / s).toFixed(0)} MB/s (${s.toFixed(2)} s)`);
}

async function plainReads(): Promise<number> {
  const h = await open(file, 'r');
  const buf = new Uint8Array(4 << 20);
  let pos = 0;
  let sum = 0;
  for (;;) {
    const { bytesRead } = await h.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    sum += buf[0];
    pos += bytesRead;
  }
  await h.close();
  return pos;
}

async function scan(verifyChecksums: boolean): Promise<number> {
  const r = await PicpacReader.open(file);
  let bytes = 0;
  for await (const rec of r.scan({ verifyChecksums })) bytes += rec.fields[0].bytes.length;
  await r.close();
  return bytes;
}

async function scanBatches(verifyChecksums: boolean): Promise<number> {
  const r = await PicpacReader.open(file);
  let bytes = 0;
  for await (const batch of r.scanBatches({ verifyChecksums })) for (const rec of batch) bytes += rec.fields[0].bytes.length;
  await r.close();
  return bytes;
}

async function time(label: string, fn: () => Promise<number>): Promise<void> {
  const runs: number[] = [];
  let bytes = 0;
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    bytes = await fn();
    runs.push(performance.now() - t0);
  }
  runs.sort((a, b) => a - b);
  const ms = runs[2];
  console.log(`${label.padEnd(34)} median ${ms.toFixed(0).padStart(5)} ms  ${(bytes / 2 ** 20 / (ms / 1000)).toFixed(0).padStart(6)} MB/s`);
}

console.log(`native crc32c: ${installNativeCrc32c()}`);
await ensureFile();
const size = (await stat(file)).size;
console.log(`file: ${file} ${(size / 2 ** 20).toFixed(0)} MiB, ${TOTAL_BYTES / RECORD_BYTES} records of ${RECORD_BYTES} B`);
await plainReads(); // warm the page cache
const t0 = performance.now();
const r = await PicpacReader.open(file);
console.log(`open (strict): ${(performance.now() - t0).toFixed(1)} ms, ${r.recordCount} records`);
await r.close();
await time('plain 4 MiB FileHandle.read loop', plainReads);
await time('scan({ verifyChecksums: false })', () => scan(false));
await time('scan() with checksums', () => scan(true));
await time('scanBatches({ verifyChecksums: false })', () => scanBatches(false));
await time('scanBatches() with checksums', () => scanBatches(true));
if (!keep) await unlink(file);
