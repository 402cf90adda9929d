// Storage benchmark (issue 4): LMDB raw, LMDB encoded, .picpac compact, .picpac aligned and
// PicPac 1.0 on real photographs at 256×256 and 500×375 — bytes on disk, sequential and random
// reads (hot, and cold when /proc/sys/vm/drop_caches is writable), decode per core, the
// stream per backend, live device models (HDD / SATA SSD / NVMe) and the table the seed argues
// from, write throughput. Writes bench/results/storage.{md,svg,json}.
// Run: npm run bench [-- storage] [--quick] [--json] [--no-cold] [--no-stream]
// (--quick: 200 + 100 images, written to bench/results/storage-quick.*)
import { mkdir, open, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { decodeImageSync } from '../src/augment/pixels/decode.ts';
import { imageFromTensor } from '../src/augment/pixels/tensor-image.ts';
import { openLmdbEnv } from '../src/engine/lmdb/lmdb-env.ts';
import { DEVICE_MODELS, DeviceClock } from '../src/engine/sources/throttled-source.ts';
import type { DeviceModel } from '../src/engine/sources/throttled-source.ts';
import type { NewRecord, Store } from '../src/engine/store.ts';
import { TensorDType } from '../src/format/layout.ts';
import { decodeTensor, encodeTensor } from '../src/format/tensor.ts';
import { crc32c } from '../src/format/crc32c.ts';
import '../src/engine/picpac/crc-native.ts';
import { dropCaches, median } from './lib/measure.ts';
import { cacheDir, machineLine, photoSet } from './lib/photo-set.ts';
import { benchBackends, buildStore } from './lib/storage-backends.ts';
import type { BackendKey, BenchBackend } from './lib/storage-backends.ts';
import { writeReport } from './lib/storage-report.ts';
import type { DatasetResult, DeviceRun, StorageReport } from './lib/storage-report.ts';
import { streamThroughput } from './lib/storage-stream.ts';

const argv = process.argv.slice(2).filter((a) => a !== 'storage');
const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false }, 'no-cold': { type: 'boolean', default: false }, 'no-stream': { type: 'boolean', default: false } } });
const quick = values.quick;
const config = quick
  ? { sets: [{ width: 256, height: 256, count: 200 }, { width: 500, height: 375, count: 100 }], runs: 3, coldRuns: 1, taskMs: 300, deviceSeconds: 0.25, randomGets: 200 }
  : { sets: [{ width: 256, height: 256, count: 2000 }, { width: 500, height: 375, count: 1000 }], runs: 7, coldRuns: 5, taskMs: 1500, deviceSeconds: 1.0, randomGets: 1000 };
const QUALITY = 90;
const command = `npm run bench -- storage${quick ? ' --quick' : ''}${values.json ? ' --json' : ''}`;
const log = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);

const workDir = join(cacheDir, 'storage');
await mkdir(workDir, { recursive: true });
const canDrop = !values['no-cold'] && (await dropCaches());
const devices: DeviceModel[] = [DEVICE_MODELS.hdd, DEVICE_MODELS.sataSsd, DEVICE_MODELS.nvme];

/** Deterministic record order for random reads (LCG, same for every backend). */
function randomIndexes(count: number, recordCount: number, seed = 2016): number[] {
  const out: number[] = [];
  let x = seed;
  for (let k = 0; k < count; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push(x % recordCount);
  }
  return out;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}

/** One pass of store.scan() touching every first field; returns records and payload bytes. */
async function scanPass(store: Store, verifyChecksums = true): Promise<{ records: number; bytes: number }> {
  let records = 0;
  let bytes = 0;
  for await (const r of store.scan(verifyChecksums ? undefined : { verifyChecksums })) {
    records++;
    bytes += r.fields[0].bytes.length;
  }
  return { records, bytes };
}

async function hotScan(backend: BenchBackend, verifyChecksums = true): Promise<{ recordsPerSecond: number; megabytesPerSecond: number }> {
  const store = await backend.open();
  await scanPass(store, verifyChecksums); // warm-up: page cache and JIT
  const times: number[] = [];
  let result = { records: 0, bytes: 0 };
  for (let r = 0; r < config.runs; r++) {
    const t = await timed(() => scanPass(store, verifyChecksums));
    times.push(t.seconds);
    result = t.value;
  }
  await store.close();
  const seconds = median(times);
  return { recordsPerSecond: result.records / seconds, megabytesPerSecond: result.bytes / 1e6 / seconds };
}

async function coldScan(backend: BenchBackend): Promise<{ recordsPerSecond: number; megabytesPerSecond: number }> {
  const times: number[] = [];
  let result = { records: 0, bytes: 0 };
  for (let r = 0; r < config.coldRuns; r++) {
    await dropCaches();
    const store = await backend.open();
    const t = await timed(() => scanPass(store));
    await store.close();
    times.push(t.seconds);
    result = t.value;
  }
  const seconds = median(times);
  return { recordsPerSecond: result.records / seconds, megabytesPerSecond: result.bytes / 1e6 / seconds };
}

async function hotRandom(backend: BenchBackend, recordCount: number): Promise<number> {
  const store = await backend.open();
  const order = randomIndexes(1 << 16, recordCount);
  let k = 0;
  const bench = new Bench({ time: config.taskMs, warmupTime: 100 });
  bench.add('get', async () => {
    const r = await store.get(order[k++ & 0xffff]);
    if (r.fields.length === 0) throw new Error('empty record');
  });
  await bench.run();
  await store.close();
  const result = bench.tasks[0].result as { latency?: { p50: number } };
  return 1000 / (result.latency?.p50 ?? Number.NaN);
}

async function coldRandom(backend: BenchBackend, recordCount: number): Promise<number> {
  await dropCaches();
  const store = await backend.open();
  const order = randomIndexes(Math.min(config.randomGets, recordCount), recordCount, 7);
  const t = await timed(async () => {
    for (const i of order) await store.get(i);
  });
  await store.close();
  return order.length / t.seconds;
}

/** The yardsticks: plain 4 MiB reads of a file; lmdb-js getRange over the records (no Store). Opening is not timed. */
interface Pass {
  seconds: number;
  bytes: number;
  records?: number;
}

async function plainFileRead(path: string): Promise<Pass> {
  const fh = await open(path, 'r');
  const buf = new Uint8Array(4 << 20);
  let total = 0;
  const t0 = performance.now();
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  const seconds = (performance.now() - t0) / 1000;
  await fh.close();
  return { seconds, bytes: total };
}

async function lmdbGetRange(dir: string): Promise<Pass> {
  const env = await openLmdbEnv(dir, { readOnly: true });
  let records = 0;
  let bytes = 0;
  const t0 = performance.now();
  for (const { value } of env.recordsView.getRange({})) {
    records++;
    bytes += (value as Uint8Array).length;
  }
  const seconds = (performance.now() - t0) / 1000;
  await env.root.close();
  return { seconds, bytes, records };
}

async function baselineRate(fn: () => Promise<Pass>, cold: boolean): Promise<{ megabytesPerSecond: number; recordsPerSecond?: number }> {
  if (!cold) await fn();
  const passes: Pass[] = [];
  for (let r = 0; r < (cold ? config.coldRuns : config.runs); r++) {
    if (cold) await dropCaches();
    passes.push(await fn());
  }
  const seconds = median(passes.map((p) => p.seconds));
  const last = passes[passes.length - 1];
  return { megabytesPerSecond: last.bytes / 1e6 / seconds, ...(last.records !== undefined ? { recordsPerSecond: last.records / seconds } : {}) };
}

/**
 * The goal's comparison, side by side (REFERENCE §4: compare ratios measured in one run):
 * rounds alternate .picpac scan (checksums verified, and unchecked), LmdbStore.scan and the
 * bare lmdb-js getRange over the same JPEG records; medians per contender.
 */
async function headToHead(picpac: BenchBackend, lmdb: BenchBackend, cold: boolean): Promise<Record<string, { recordsPerSecond: number; megabytesPerSecond: number }>> {
  const contenders: Array<[string, () => Promise<Pass>]> = [
    ['picpacChecked', () => storePass(picpac, true, cold)],
    ['picpacUnchecked', () => storePass(picpac, false, cold)],
    ['lmdbStore', () => storePass(lmdb, true, cold)],
    ['lmdbGetRange', () => (cold ? dropCaches().then(() => lmdbGetRange(lmdb.path)) : lmdbGetRange(lmdb.path))],
  ];
  const passes = new Map<string, Pass[]>(contenders.map(([name]) => [name, []]));
  if (!cold) for (const [, run] of contenders) await run(); // warm-up
  for (let r = 0; r < (cold ? config.coldRuns : config.runs); r++) {
    for (const [name, run] of contenders) passes.get(name)!.push(await run());
  }
  const out: Record<string, { recordsPerSecond: number; megabytesPerSecond: number }> = {};
  for (const [name, list] of passes) {
    const seconds = median(list.map((p) => p.seconds));
    out[name] = { recordsPerSecond: (list[0].records ?? 0) / seconds, megabytesPerSecond: list[0].bytes / 1e6 / seconds };
  }
  return out;
}

/** Open (untimed; after dropping the cache when cold), then one timed scan pass. */
async function storePass(backend: BenchBackend, verifyChecksums: boolean, cold: boolean): Promise<Pass> {
  if (cold) await dropCaches();
  const store = await backend.open();
  const t = await timed(() => scanPass(store, verifyChecksums));
  await store.close();
  return { seconds: t.seconds, records: t.value.records, bytes: t.value.bytes };
}

/** Decode per core (tinybench): JPEG → RGB pixels, and raw tensor → Image (what raw costs instead). */
async function decodeRates(jpegs: Uint8Array[], tensors: Uint8Array[]): Promise<{ jpegPerSecond: number; jpegMegapixelsPerSecond: number; rawPerSecond: number }> {
  let k = 0;
  let j = 0;
  const bench = new Bench({ time: config.taskMs, warmupTime: 200 });
  bench.add('jpeg', () => {
    decodeImageSync(jpegs[k++ % jpegs.length], { channels: 3 });
  });
  bench.add('raw', () => {
    imageFromTensor(decodeTensor(tensors[j++ % tensors.length], 0, TensorDType.uint8));
  });
  await bench.run();
  // Median latency: robust to the other processes sharing these two cores.
  const rate = (name: string) => 1000 / ((bench.tasks.find((t) => t.name === name)!.result as { latency: { p50: number } }).latency.p50);
  const first = decodeImageSync(jpegs[0]);
  const jpegPerSecond = rate('jpeg');
  return { jpegPerSecond, jpegMegapixelsPerSecond: (jpegPerSecond * first.width * first.height) / 1e6, rawPerSecond: rate('raw') };
}

/** Live run on a modelled device: sequential (optionally decoding each image) and random gets. */
async function deviceRuns(backend: BenchBackend, device: DeviceModel, recordCount: number, diskBytesPerRecord: number): Promise<DeviceRun> {
  const bytesPerSecond = device.sequentialBytesPerSecond;
  const seqCount = Math.min(recordCount, Math.max(50, Math.floor((config.deviceSeconds * bytesPerSecond) / diskBytesPerRecord)));
  const run = async (mode: 'read' | 'decode'): Promise<number> => {
    const clock = new DeviceClock(device);
    const ds = await backend.openOn(clock);
    await clock.settle(); // open's reads are not part of the pass
    const t = await timed(async () => {
      for await (const r of ds.scan(0, seqCount)) {
        if (mode === 'decode') {
          if (backend.raw) imageFromTensor(decodeTensor(r.fields[0].bytes, 0, TensorDType.uint8));
          else decodeImageSync(r.fields[0].bytes, { channels: 3 });
        }
      }
      await clock.settle();
    });
    await ds.close();
    return seqCount / t.seconds;
  };
  const sequentialPerSecond = await run('read');
  const sequentialDecodedPerSecond = await run('decode');
  const randomCount = Math.min(recordCount, Math.max(20, Math.floor(config.deviceSeconds / (device.seekSeconds + diskBytesPerRecord / bytesPerSecond))));
  const clock = new DeviceClock(device);
  const ds = await backend.openOn(clock);
  await clock.settle();
  const order = randomIndexes(randomCount, recordCount, 99);
  const t = await timed(async () => {
    for (const i of order) await ds.get(i);
    await clock.settle();
  });
  await ds.close();
  return { device: device.name, sequentialRecords: seqCount, sequentialPerSecond, sequentialDecodedPerSecond, randomRecords: randomCount, randomPerSecond: randomCount / t.seconds };
}

/** CRC32C speed on one core (the native implementation the reader uses), GB/s, median latency. */
async function crc32cRate(byteLength: number): Promise<number> {
  const bytes = new Uint8Array(byteLength).map((_, i) => i * 31);
  const bench = new Bench({ time: config.taskMs / 2, warmupTime: 100 });
  bench.add('crc32c', () => {
    crc32c(bytes);
  });
  await bench.run();
  return byteLength / 1e9 / ((bench.tasks[0].result as { latency: { p50: number } }).latency.p50 / 1000);
}

const report: StorageReport = {
  bench: 'storage',
  machine: machineLine(),
  command,
  quick,
  jpegQuality: QUALITY,
  crc32cGigabytesPerSecond: await crc32cRate(13000),
  coldCache: canDrop ? 'measured: page cache dropped with /proc/sys/vm/drop_caches before each cold pass (the VM host may still cache underneath)' : 'not measured (/proc/sys/vm/drop_caches not writable)',
  devices: devices.map((d) => ({ ...d })),
  datasets: [],
};

for (const set of config.sets) {
  const photos = await photoSet(set.count, set.width, set.height, QUALITY);
  const name = `${set.width}×${set.height}`;
  log(`# ${name}: ${photos.files.length} JPEG q${QUALITY} (${photos.origin})`);
  const jpegs = photos.files.map((f) => new Uint8Array(readFileSync(f)));
  const jpegBytes = jpegs.reduce((s, b) => s + b.length, 0);
  // Decoding for the raw stores is part of their import: timed here, once.
  const decodeAll = await timed(async () => jpegs.map((b) => decodeImageSync(b, { channels: 3 })));
  const tensors = decodeAll.value.map((img) => encodeTensor({ dtype: TensorDType.uint8, shape: [img.height, img.width, 3], data: img.data as Uint8Array }));
  const rawPixelBytes = decodeAll.value.reduce((s, img) => s + img.data.length, 0);
  const encodedRecords: NewRecord[] = jpegs.map((bytes, i) => ({ label: i % 10, fields: [{ kind: 'image', bytes }] }));
  const rawRecords: NewRecord[] = tensors.map((bytes, i) => ({ label: i % 10, fields: [{ kind: 'tensor', codec: TensorDType.uint8, bytes }] }));
  const decode = await decodeRates(jpegs, tensors);
  log(`  decode per core: ${decode.jpegPerSecond.toFixed(0)} JPEG/s (${decode.jpegMegapixelsPerSecond.toFixed(0)} Mpx/s); raw tensor → Image ${decode.rawPerSecond.toFixed(0)}/s`);
  const result: DatasetResult = {
    name,
    width: set.width,
    height: set.height,
    recordCount: jpegs.length,
    origin: photos.origin,
    jpegBytesPerImage: jpegBytes / jpegs.length,
    rawBytesPerImage: rawPixelBytes / jpegs.length,
    decode,
    decodeAllSeconds: decodeAll.seconds,
    backends: {} as DatasetResult['backends'],
    baselines: {},
    stream: {},
  };
  const backends = benchBackends(workDir, `${set.width}x${set.height}-${set.count}`);
  for (const backend of backends) {
    const records = backend.raw ? rawRecords : encodedRecords;
    const payloadBytes = backend.raw ? rawPixelBytes : jpegBytes;
    const writeSeconds = await buildStore(backend, records);
    const diskBytes = backend.diskBytes();
    const hot = await hotScan(backend);
    const randomHot = await hotRandom(backend, records.length);
    const row: DatasetResult['backends'][BackendKey] = {
      label: backend.label,
      payloadBytesPerImage: payloadBytes / records.length,
      diskBytesPerImage: diskBytes / records.length,
      overheadPercent: ((diskBytes - payloadBytes) / payloadBytes) * 100,
      writeRecordsPerSecond: records.length / writeSeconds,
      writeMegabytesPerSecond: payloadBytes / 1e6 / writeSeconds,
      importRecordsPerSecond: records.length / (writeSeconds + (backend.raw ? decodeAll.seconds : 0)),
      sequentialHot: hot,
      randomHotPerSecond: randomHot,
      devices: [],
    };
    if (backend.key === 'picpac-compact' || backend.key === 'picpac-aligned') row.sequentialHotUnchecked = await hotScan(backend, false);
    if (canDrop) {
      row.sequentialCold = await coldScan(backend);
      row.randomColdPerSecond = await coldRandom(backend, records.length);
    }
    for (const device of devices) row.devices.push(await deviceRuns(backend, device, records.length, row.diskBytesPerImage));
    result.backends[backend.key] = row;
    log(`  ${backend.label}: ${row.diskBytesPerImage.toFixed(0)} B/img (+${row.overheadPercent.toFixed(2)} %), write ${row.writeRecordsPerSecond.toFixed(0)}/s, scan ${hot.recordsPerSecond.toFixed(0)}/s ${hot.megabytesPerSecond.toFixed(0)} MB/s, get ${randomHot.toFixed(0)}/s${row.sequentialCold ? `, cold scan ${row.sequentialCold.megabytesPerSecond.toFixed(0)} MB/s` : ''}`);
  }
  const byKey = (key: BackendKey) => backends.find((b) => b.key === key)!;
  result.baselines.plainReadCompactHot = await baselineRate(() => plainFileRead(byKey('picpac-compact').path), false);
  result.baselines.lmdbGetRangeEncodedHot = await baselineRate(() => lmdbGetRange(byKey('lmdb-encoded').path), false);
  result.baselines.lmdbGetRangeRawHot = await baselineRate(() => lmdbGetRange(byKey('lmdb-raw').path), false);
  if (canDrop) {
    result.baselines.plainReadCompactCold = await baselineRate(() => plainFileRead(byKey('picpac-compact').path), true);
    result.baselines.lmdbGetRangeEncodedCold = await baselineRate(() => lmdbGetRange(byKey('lmdb-encoded').path), true);
    result.baselines.lmdbGetRangeRawCold = await baselineRate(() => lmdbGetRange(byKey('lmdb-raw').path), true);
  }
  result.headToHead = { hot: await headToHead(byKey('picpac-compact'), byKey('lmdb-encoded'), false) };
  if (canDrop) result.headToHead.cold = await headToHead(byKey('picpac-compact'), byKey('lmdb-encoded'), true);
  log(`  head to head (rec/s): ${JSON.stringify(result.headToHead, (k, v) => (typeof v === 'number' ? Math.round(v) : v))}`);
  if (!values['no-stream']) {
    for (const backend of backends) result.stream[backend.key] = await streamThroughput(backend, { quick });
    log(`  stream: ${Object.entries(result.stream).map(([k, v]) => `${k} ${v?.imagesPerSecond?.toFixed(0) ?? v?.error}`).join(', ')}`);
  }
  report.datasets.push(result);
}

const outDir = join(cacheDir, '..', 'results');
await mkdir(outDir, { recursive: true });
const { markdown, svg, summary } = writeReport(report);
// A --quick run (smoke test, small sets) never overwrites the full report.
const base = quick ? 'storage-quick' : 'storage';
await writeFile(join(outDir, `${base}.json`), JSON.stringify(report, null, 2) + '\n');
await writeFile(join(outDir, `${base}.md`), markdown.replace('(storage.svg)', `(${base}.svg)`));
await writeFile(join(outDir, `${base}.svg`), svg);
if (values.json) console.log(JSON.stringify(report, null, 2));
else console.log(`\n${summary}\nwrote bench/results/${base}.md, ${base}.svg, ${base}.json`);
