// picpac stream DB -n N [--threads T] [--<stream parameter> value ...]: run the training stream
// for N samples and report images/s and MB/s (what the original `stress` and `picpac-stream`
// tools did); --dump DIR writes the first samples as PNG (after augmentation) and their label
// images; --digest prints one SHA-256 over every batch byte, so two runs (thread counts,
// machines, versions) can be compared.
import { isUrl, openStore } from '../../engine/open-store.ts';
import { printOpenWarnings } from '../open-warnings.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { STREAM_PARAMS, STREAM_PARAM_NAMES } from '../../augment/config-schema.ts';
import { ImageStream } from '../../augment/stream/stream.ts';
import type { Batch } from '../../augment/stream/stream.ts';
import { readLabelMap } from '../../augment/stream/batch.ts';
import { launcherShare } from '../../augment/sampling/launcher-env.ts';
import { parseByteSize } from '../../engine/byte-size.ts';
import type { BatchLayout } from '../../augment/stream/batch.ts';
import type { Store } from '../../engine/store.ts';
import { UsageError, choiceOption, flagOption, intOption, stringOption, type CliIo, type CommandSpec, type OptionSpec, type ParsedCommand } from '../args.ts';
import { stopSpareWorkers } from '../../augment/stream/spare-workers.ts';
import { loadSharp } from '../../augment/pixels/sharp-module.ts'; // only for --dump: not on every stream run's start-up

/** Every stream parameter is an option `--name value` (values parsed by parseStreamConfig). */
const PARAMETER_OPTIONS: Record<string, OptionSpec> = Object.fromEntries(
  STREAM_PARAM_NAMES.map((name) => [name, { type: 'string', valueName: STREAM_PARAMS[name].type.toUpperCase(), description: STREAM_PARAMS[name].doc } satisfies OptionSpec]),
);

/** Samples written by --dump at most. */
const DUMP_MAX = 100;

export const streamCommand: CommandSpec = {
  name: 'stream',
  summary: 'run the training stream for N samples: images/s, MB/s, --dump PNGs, --digest',
  synopsis: 'DB',
  description:
    'Stream N samples from DB with any stream parameter (--batch 32, --perturb 1, --annotate json,\n' +
    '--threads 2, ... as in the original picpac-stream; see the parameter list below). Prints\n' +
    'images/s, MB/s read (stored record bytes) and MB/s produced (batch tensors).\n' +
    '--dump DIR writes the first samples (at most 100) as DIR/<k>.png after augmentation (mean\n' +
    'added back, RGB) and DIR/<k>.label.png when annotating (values stretched to 0..255).\n' +
    '--digest prints a SHA-256 of all batch bytes: equal for every thread count.\n' +
    'DB may be an s3:// URL or shard manifest; --rank/--world_size default to the launcher\'s\n' +
    'RANK/WORLD_SIZE (torchrun), OMPI_COMM_WORLD_RANK/SIZE, PMI_RANK/SIZE or SLURM_PROCID/NTASKS.',
  options: {
    count: { type: 'string', short: 'n', valueName: 'N', description: 'samples to stream (default 1000)' },
    dump: { type: 'string', valueName: 'DIR', description: 'write the first samples as PNG files into DIR' },
    digest: { type: 'boolean', description: 'print a SHA-256 over all batch bytes (images, then labels, per batch)' },
    'on-error': { type: 'string', valueName: 'throw|skip', description: 'bad records: stop (default) or skip and count them' },
    'print-ids': { type: 'boolean', description: 'print the id of every streamed sample, one per line (the summary goes to stderr)' },
    'cache-dir': { type: 'string', valueName: 'DIR', description: 'node-local cache of remote (s3://) byte ranges, shared by the processes of a node' },
    'cache-limit': { type: 'string', valueName: 'SIZE', description: 'bound of --cache-dir, least recently used ranges evicted first (default 20GB)' },
    ...PARAMETER_OPTIONS,
  },
  minPositionals: 1,
  maxPositionals: 1,
  examples: [
    'picpac stream plates.picpac -n 2000 --threads 2 --cache 0',
    'picpac stream plates.picpac -n 16 --annotate json --perturb 1 --pert_angle 20 --dump out/',
    'picpac stream plates.picpac -n 500 --threads 2 --digest',
    'picpac stream s3://bucket/plates/index.picpac.json --loop 0 --rank 0 --world_size 2 --print-ids',
    'picpac stream s3://bucket/plates.picpac -n 5000 --cache-dir /tmp/picpac-cache --cache-limit 20GB',
  ],
  run: runStream,
};

async function runStream(args: ParsedCommand, io: CliIo): Promise<number> {
  const cmd = 'stream';
  const [db] = args.positionals;
  const count = intOption(args, 'count', { min: 1 }, cmd) ?? 1000;
  const dumpDir = stringOption(args, 'dump');
  const onError = choiceOption(args, 'on-error', ['throw', 'skip'] as const, cmd) ?? 'throw';
  const printIds = flagOption(args, 'print-ids');
  const cacheDir = stringOption(args, 'cache-dir');
  const cacheLimit = stringOption(args, 'cache-limit');
  if (cacheLimit !== undefined && cacheDir === undefined) throw new UsageError('--cache-limit goes with --cache-dir', cmd);
  if (cacheDir !== undefined) {
    try {
      parseByteSize(cacheLimit ?? '20GB', '--cache-limit');
    } catch (error) {
      throw new UsageError((error as Error).message, cmd);
    }
    // Through the environment so that the stream's worker threads use the same cache (range-cache.ts).
    process.env.PICPAC_CACHE_DIR = cacheDir;
    process.env.PICPAC_CACHE_LIMIT = cacheLimit ?? '20GB';
  }
  const pairs: string[] = [];
  for (const name of STREAM_PARAM_NAMES) {
    const value = stringOption(args, name);
    if (value !== undefined) pairs.push(`--${name}`, value);
  }
  // A local file is opened once, here: the stream reads the last valid commit, and the user is
  // told when bytes after it are not committed. The stream uses this store (its workers open
  // the path themselves); it is closed after the stream.
  let store: Store | undefined;
  if (!isUrl(db)) {
    store = await openStore(db);
    try {
      await printOpenWarnings(store, db, io);
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  if (stringOption(args, 'rank') === undefined && stringOption(args, 'world_size') === undefined) {
    let share;
    try {
      share = launcherShare();
    } catch (error) {
      throw new UsageError((error as Error).message, cmd);
    }
    if (share) pairs.push('--rank', String(share.rank), '--world_size', String(share.worldSize));
  }
  const summary = printIds ? io.stderr : io.stdout;
  let stream: ImageStream;
  try {
    // reuseBuffers: each batch is hashed/dumped before the next is asked for, so the stream may
    // recycle its shared batch buffers (no fresh allocation per batch).
    stream = await ImageStream.open(store ?? db, pairs, { onError, reuseBuffers: true });
  } catch (error) {
    await store?.close();
    if (error instanceof TypeError || error instanceof RangeError) throw new UsageError(error.message, cmd);
    throw error;
  } finally {
    await stopSpareWorkers(); // the workers started from --threads (stream-prestart.ts) that the stream did not take
  }
  try {
    for (const warning of stream.warnings) io.stderr.write(`warning: ${warning}\n`);
    if (dumpDir !== undefined) await mkdir(dumpDir, { recursive: true });
    // node:crypto only for --digest: loading it costs ~5 ms of every run's start-up.
    const hash = flagOption(args, 'digest') ? (await import('node:crypto')).createHash('sha256') : undefined;
    let samples = 0;
    // In MiB, fractional from the first batch: a byte count passes 2^31 within seconds, and that
    // overflow of a small-integer counter would throw this loop's optimised code away.
    let storedMiB = 0;
    let producedMiB = 0;
    let dumped = 0;
    const start = performance.now();
    while (samples < count) {
      const batch = await stream.next();
      if (batch === null) break;
      let ids = '';
      for (let i = 0; i < batch.count; i++) {
        storedMiB += stream.meta(batch.recordIndices[i], batch.sourceIndices[i]).byteLength / 2 ** 20;
        if (printIds) ids += `${batch.sourceIndices[i] === 1 ? 'mixin ' : ''}${batch.ids[i]}\n`;
      }
      if (ids !== '') io.stdout.write(ids);
      producedMiB += (batch.images.byteLength + batch.labels.byteLength) / 2 ** 20;
      if (hash) {
        hash.update(bytesOf(batch.images));
        hash.update(bytesOf(batch.labels));
      }
      if (dumpDir !== undefined && dumped < Math.min(count, DUMP_MAX)) dumped += await dumpBatch(batch, stream.layout, dumpDir, dumped, Math.min(count, DUMP_MAX) - dumped);
      samples += batch.count;
    }
    const seconds = (performance.now() - start) / 1000;
    const rate = (mib: number) => (mib / seconds).toFixed(1);
    summary.write(`${stream.describe()}\n`);
    summary.write(`${samples} samples in ${seconds.toFixed(2)} s: ${(samples / seconds).toFixed(0)} images/s, ${rate(storedMiB)} MB/s read, ${rate(producedMiB)} MB/s produced\n`);
    if (stream.skipped > 0) summary.write(`skipped ${stream.skipped} bad records\n`);
    const position = stream.position();
    summary.write(`position: epoch ${position.epoch} offset ${position.offset}\n`);
    if (dumpDir !== undefined) summary.write(`dumped ${dumped} samples to ${dumpDir}\n`);
    if (hash) summary.write(`sha256 ${hash.digest('hex')}\n`);
  } finally {
    await stream.close();
    await store?.close();
  }
  return 0;
}

function bytesOf(array: Float32Array | Uint8Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Write up to `limit` samples of a batch as PNG: the image (RGB, mean added back) and its label raster. */
async function dumpBatch(batch: Batch, layout: BatchLayout, dir: string, first: number, limit: number): Promise<number> {
  const nchw = layout.order === 'NCHW';
  const [, d1, d2, d3] = batch.imageShape;
  const [height, width, channels] = nchw ? [d2, d3, d1] : [d1, d2, d3];
  const pixels = width * height;
  const n = Math.min(batch.count, limit);
  for (let i = 0; i < n; i++) {
    const rgb = new Uint8Array(pixels * Math.min(channels, 3));
    const outChannels = Math.min(channels, 3);
    for (let p = 0; p < pixels; p++) {
      for (let k = 0; k < outChannels; k++) {
        // Output channel k of the batch → RGB position (BGR batches are swapped back).
        const target = outChannels === 3 && !layout.rgb ? 2 - k : k;
        const index = nchw ? i * pixels * channels + k * pixels + p : (i * pixels + p) * channels + k;
        const mean = layout.dtype === 'uint8' ? 0 : outChannels === 1 ? layout.mean[0] : layout.mean[layout.rgb ? 2 - k : k];
        const v = Math.round(batch.images[index] + mean);
        rgb[p * outChannels + target] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
    const name = path.join(dir, String(first + i));
    const sharp = await loadSharp();
    await writeFile(`${name}.png`, await sharp(rgb, { raw: { width, height, channels: outChannels as 1 | 3 } }).png().toBuffer());
    if (batch.labelShape.length === 4) await writeFile(`${name}.label.png`, await labelPng(batch, layout, i, width, height));
  }
  return n;
}

async function labelPng(batch: Batch, layout: BatchLayout, i: number, width: number, height: number): Promise<Buffer> {
  const pixels = width * height;
  const values = readLabelMap(batch, layout, i, pixels);
  let max = 0;
  for (let p = 0; p < pixels; p++) if (values[p] > max) max = values[p];
  const stretch = max > 0 && max < 255 ? Math.floor(255 / max) : 1;
  const grey = new Uint8Array(pixels);
  for (let p = 0; p < pixels; p++) grey[p] = Math.max(0, Math.min(255, Math.round(values[p] * stretch)));
  return (await loadSharp())(grey, { raw: { width, height, channels: 1 } }).png().toBuffer();
}
