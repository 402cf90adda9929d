// Container benchmark (issue 2): sequential read vs plain 4 MiB reads, format overhead,
// compact vs 4 KiB-aligned, and random access — all on JPEG crops of real photographs.
// Run: npm run bench -- container [--records 8000] [--json]
import { open, rm, mkdir, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PicpacWriter } from '../src/engine/picpac/picpac-writer.ts';
import { PicpacReader } from '../src/engine/picpac/picpac-reader.ts';
import { cacheDir, machineLine, photoSet } from './lib/photo-set.ts';
import { dropCaches, median } from './lib/measure.ts';

const { values } = parseArgs({ args: process.argv.slice(3), options: { records: { type: 'string', default: '8000' }, json: { type: 'boolean', default: false }, runs: { type: 'string', default: '5' }, hot: { type: 'boolean', default: false }, quality: { type: 'string', default: '93' } } });
const recordCount = Number(values.records);
const runs = Number(values.runs);

const quality = Number(values.quality);
const photos = await photoSet(2000, 256, 256, quality);
const jpegs = photos.files.map((f) => new Uint8Array(readFileSync(f)));
const workDir = join(cacheDir, 'container');
await mkdir(workDir, { recursive: true });

/** A ~150-byte annotation like the labelling tool writes (one rect). */
const annotationOf = (i: number): string => `{"shapes": [{"type": "rect", "label": ${i % 10}, "geometry": {"x": 0.${(i * 7919) % 100000}, "y": 0.${(i * 104729) % 100000}, "width": 0.2${i % 10}5, "height": 0.1${i % 7}75}}]}`;

async function build(alignment: number, annotate = false): Promise<{ path: string; payloadBytes: number; annotationBytes: number; fileBytes: number; seconds: number }> {
  const path = join(workDir, `photos-${recordCount}-a${alignment}${annotate ? '-annotated' : ''}.picpac`);
  let payloadBytes = 0;
  let annotationBytes = 0;
  const times: number[] = [];
  for (let run = 0; run < 3; run++) {
    // Write throughput without the fsync at close (the device, not the writer, sets that cost);
    // median of 3 builds, `void append(...)` in a loop then close.
    await rm(path, { force: true });
    payloadBytes = 0;
    annotationBytes = 0;
    const t0 = performance.now();
    const writer = await PicpacWriter.create(path, { alignment, fsyncOnClose: false });
    for (let i = 0; i < recordCount; i++) {
      const bytes = jpegs[i % jpegs.length];
      payloadBytes += bytes.length;
      const annotation = annotate ? annotationOf(i) : undefined;
      annotationBytes += annotation?.length ?? 0;
      void writer.append({ label: i % 10, fields: [{ kind: 'image', bytes }], annotation });
    }
    await writer.close();
    times.push((performance.now() - t0) / 1000);
  }
  return { path, payloadBytes, annotationBytes, fileBytes: (await stat(path)).size, seconds: median(times) };
}

/** The yardstick: read the file's bytes with plain 4 MiB FileHandle.read calls. */
async function plainRead(path: string): Promise<number> {
  const fh = await open(path, 'r');
  const buf = new Uint8Array(4 << 20);
  let total = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  await fh.close();
  return total;
}

async function scan(path: string, verifyChecksums: boolean): Promise<number> {
  const reader = await PicpacReader.open(path);
  let bytes = 0;
  for await (const rec of reader.scan({ verifyChecksums })) bytes += rec.fields[0].bytes.length;
  await reader.close();
  return bytes;
}

async function scanBatches(path: string, verifyChecksums: boolean): Promise<number> {
  const reader = await PicpacReader.open(path);
  let bytes = 0;
  for await (const batch of reader.scanBatches({ verifyChecksums })) for (const rec of batch) bytes += rec.fields[0].bytes.length;
  await reader.close();
  return bytes;
}

async function randomGets(path: string, count: number): Promise<number> {
  const reader = await PicpacReader.open(path);
  let x = 2016;
  let bytes = 0;
  for (let k = 0; k < count; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const rec = await reader.get(x % reader.recordCount);
    bytes += rec.fields[0].bytes.length;
  }
  await reader.close();
  return bytes;
}

async function timeMBps(fn: () => Promise<number>, cold: boolean): Promise<{ mbps: number; seconds: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let r = 0; r < (cold ? 3 : runs); r++) {
    if (cold) await dropCaches();
    const t0 = performance.now();
    bytes = await fn();
    times.push((performance.now() - t0) / 1000);
  }
  const seconds = median(times);
  return { mbps: bytes / 1e6 / seconds, seconds };
}

const rows: Record<string, unknown>[] = [];
const compact = await build(1);
const aligned = await build(4096);
const canDrop = !values.hot && (await dropCaches());

// Format overhead with ~150-byte annotations (record + annotation per JPEG), compact and aligned.
const overheadRows: Record<string, unknown>[] = [];
for (const alignment of [1, 4096]) {
  const f = await build(alignment, true);
  overheadRows.push({
    file: alignment === 1 ? 'compact + annotations' : 'aligned 4096 + annotations',
    records: recordCount,
    avgJpegKB: +(f.payloadBytes / recordCount / 1024).toFixed(1),
    avgAnnotationBytes: Math.round(f.annotationBytes / recordCount),
    overheadVsJpegPct: +(((f.fileBytes - f.payloadBytes) / f.payloadBytes) * 100).toFixed(2),
    overheadVsJpegAndJsonPct: +(((f.fileBytes - f.payloadBytes - f.annotationBytes) / (f.payloadBytes + f.annotationBytes)) * 100).toFixed(2),
    writeMBps: +(f.fileBytes / 1e6 / f.seconds).toFixed(0),
  });
  await rm(f.path, { force: true });
}

for (const file of [compact, aligned]) {
  await plainRead(file.path); // warm the page cache
  const plain = await timeMBps(() => plainRead(file.path), false);
  const fast = await timeMBps(() => scan(file.path, false), false);
  const checked = await timeMBps(() => scan(file.path, true), false);
  const batches = await timeMBps(() => scanBatches(file.path, false), false);
  const batchesChecked = await timeMBps(() => scanBatches(file.path, true), false);
  const randomHot = await timeMBps(() => randomGets(file.path, 4000), false);
  const row: Record<string, unknown> = {
    file: file.path.endsWith('a1.picpac') ? 'compact' : 'aligned 4096',
    records: recordCount,
    avgJpegKB: +(file.payloadBytes / recordCount / 1024).toFixed(1),
    overheadPct: +(((file.fileBytes - file.payloadBytes) / file.payloadBytes) * 100).toFixed(3),
    writeMBps: +(file.fileBytes / 1e6 / file.seconds).toFixed(0),
    // Throughputs over the file's bytes; "% of plain" = plain read time / scan time, same file
    // (open and close included on both sides).
    plainReadMBps: +plain.mbps.toFixed(0),
    scanMBps: +(file.fileBytes / 1e6 / fast.seconds).toFixed(0),
    scanVsPlainPct: +((plain.seconds / fast.seconds) * 100).toFixed(1),
    scanChecksummedMBps: +(file.fileBytes / 1e6 / checked.seconds).toFixed(0),
    checkedVsPlainPct: +((plain.seconds / checked.seconds) * 100).toFixed(1),
    batchesVsPlainPct: +((plain.seconds / batches.seconds) * 100).toFixed(1),
    batchesCheckedVsPlainPct: +((plain.seconds / batchesChecked.seconds) * 100).toFixed(1),
    randomGetHotPerSec: +((4000 / randomHot.seconds)).toFixed(0),
  };
  if (canDrop) {
    row.plainReadColdMBps = +(await timeMBps(() => plainRead(file.path), true)).mbps.toFixed(0);
    row.scanColdMBps = +(await timeMBps(() => scan(file.path, true), true)).mbps.toFixed(0);
    row.randomGetColdPerSec = +(4000 / (await timeMBps(() => randomGets(file.path, 4000), true)).seconds).toFixed(0);
  }
  rows.push(row);
}

const report = { bench: 'container', machine: machineLine(), data: `${photos.origin}, 256x256 JPEG q${quality}`, coldCache: canDrop ? 'dropped with /proc/sys/vm/drop_caches' : 'not measured (--hot, or drop_caches not writable)', rows, overheadRows };
if (values.json) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`# container — ${report.machine}\n# data: ${report.data}; cold cache: ${report.coldCache}`);
  console.table(rows);
  console.table(overheadRows);
}
await mkdir(join(cacheDir, '..', 'results'), { recursive: true });
await writeFile(join(cacheDir, '..', 'results', 'container.json'), JSON.stringify(report, null, 2));
