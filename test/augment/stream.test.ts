// ImageStream end to end over real .picpac files: determinism across thread counts, epochs,
// padding, resume, ranks, error policy, buffer reuse, label kinds (REFERENCE §1.2, §1.3.1).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ImageStream } from '../../src/augment/stream/stream.ts';
import type { Batch } from '../../src/augment/stream/stream.ts';
import { SampleError, decodeField, isGreySource } from '../../src/augment/stream/sample-pipeline.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { TensorDType } from '../../src/format/layout.ts';
import { encodeTensor } from '../../src/format/tensor.ts';
import { encode, pixels } from './stream-fixtures.ts';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { openSourceStore, openStore } from '../../src/engine/open-store.ts';
import { ClosedError } from '../../src/errors.ts';
import { tempDir, writeFixture } from './stream-fixtures.ts';
import path from 'node:path';
import { existsSync } from 'node:fs';
import sharp from 'sharp';

const legacyDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../shared/vectors/legacy-v1');

const AUGMENT = { annotate: 'json', perturb: true, pert_angle: 20, pert_min_scale: 0.8, pert_max_scale: 1.2, pert_color1: 20, pert_color2: 20, pert_color3: 20, pert_hflip: true } as const;

let dir: string;
let cleanup: () => Promise<void>;
let plain: string;
let corrupt: string;
before(async () => {
  ({ dir, cleanup } = await tempDir());
  plain = await writeFixture(`${dir}/plain.picpac`, { count: 20, annotate: true });
  corrupt = await writeFixture(`${dir}/corrupt.picpac`, { count: 12, corrupt: [3, 7] });
});
after(() => cleanup());

function bytesOf(a: Float32Array | Uint8Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** SHA-256 over the batches (pixels, labels, record indices) and their list. */
async function drain(stream: ImageStream, maxBatches = Infinity): Promise<{ digest: string; batches: Batch[] }> {
  const hash = createHash('sha256');
  const batches: Batch[] = [];
  while (batches.length < maxBatches) {
    const batch = await stream.next();
    if (batch === null) break;
    hash.update(bytesOf(batch.images)).update(bytesOf(batch.labels)).update(bytesOf(batch.recordIndices));
    batches.push({ ...batch, images: batch.images.slice(), labels: batch.labels.slice() });
  }
  return { digest: hash.digest('hex'), batches };
}

async function digestOf(path: string, config: Record<string, unknown>, options: Parameters<typeof ImageStream.open>[2] = {}, maxBatches = Infinity) {
  const stream = await ImageStream.open(path, config, options);
  try {
    return { ...(await drain(stream, maxBatches)), skipped: stream.skipped, warnings: stream.warnings };
  } finally {
    await stream.close();
  }
}

describe('ImageStream determinism', () => {
  test('same bytes for threads 0, 1, 2, with and without cache, batch 4 with full augmentation', async () => {
    const config = { ...AUGMENT, batch: 4, loop: false, crop_width: 24, crop_height: 20 };
    const reference = await digestOf(plain, { ...config, threads: 0, cache: false });
    assert.equal(reference.batches.length, 5);
    for (const [threads, cache] of [[0, true], [1, false], [2, true], [2, false]] as const) {
      const run = await digestOf(plain, { ...config, threads, cache, preload: 3 });
      assert.equal(run.digest, reference.digest, `threads ${threads} cache ${cache}`);
    }
  });

  test('a looping stream with a small preload still matches inline (in-place batches)', async () => {
    const config = { ...AUGMENT, batch: 2, crop_width: 24, crop_height: 20 };
    const inline = await digestOf(plain, { ...config, threads: 0 }, {}, 25);
    const pooled = await digestOf(plain, { ...config, threads: 2, preload: 4 }, {}, 25);
    assert.equal(pooled.digest, inline.digest);
  });

  test('a different seed gives different augmentation', async () => {
    const a = await digestOf(plain, { ...AUGMENT, loop: false, seed: 1 });
    const b = await digestOf(plain, { ...AUGMENT, loop: false, seed: 2 });
    assert.notEqual(a.digest, b.digest);
  });
});

describe('epochs, padding, resume, ranks', () => {
  test('loop false: every selected record once, then null; position after each batch', async () => {
    const stream = await ImageStream.open(plain, { batch: 3, loop: false });
    const seen: number[] = [];
    let batch: Batch | null;
    while ((batch = await stream.next()) !== null) {
      seen.push(...batch.recordIndices.subarray(0, batch.count));
      assert.deepEqual(batch.position, stream.position());
    }
    assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(await stream.next(), null);
    assert.deepEqual(stream.position(), { epoch: 1, offset: 0 });
    await stream.close();
  });

  test('pad: the last batch is full, says how many are real, and repeats real samples (never garbage)', async () => {
    const { batches } = await digestOf(plain, { batch: 6, loop: false, pad: true });
    const last = batches.at(-1)!;
    assert.equal(last.count, 2);
    assert.equal(last.padded, 4);
    assert.deepEqual(last.imageShape, [6, 24, 32, 3]);
    const per = 24 * 32 * 3;
    for (let i = 2; i < 6; i++) {
      assert.equal(last.recordIndices[i], last.recordIndices[i % 2]);
      assert.deepEqual(last.images.subarray(i * per, (i + 1) * per), last.images.subarray((i % 2) * per, (i % 2 + 1) * per));
      assert.equal(last.labels[i], last.labels[i % 2]);
    }
    const short = await digestOf(plain, { batch: 6, loop: false, pad: false });
    assert.equal(short.batches.at(-1)!.count, 2);
    assert.deepEqual(short.batches.at(-1)!.imageShape, [2, 24, 32, 3]);
  });

  test('resume from a saved position gives exactly the remaining sequence', async () => {
    const config = { ...AUGMENT, batch: 3, crop_width: 24, crop_height: 20 };
    const whole = await digestOf(plain, { ...config, threads: 0 }, {}, 16);
    const checkpoint = whole.batches[6].position; // crosses the epoch boundary (20 records) later
    const resumed = await digestOf(plain, { ...config, threads: 2, resume_epoch: checkpoint.epoch, resume_offset: checkpoint.offset }, {}, 9);
    const rest = whole.batches.slice(7);
    assert.equal(resumed.batches.length, rest.length);
    resumed.batches.forEach((b, i) => {
      assert.deepEqual(b.recordIndices, rest[i].recordIndices);
      assert.deepEqual(b.images, rest[i].images);
      assert.deepEqual(b.position, rest[i].position);
    });
  });

  test('ranks take disjoint shares of each epoch that together cover it', async () => {
    const shares: number[][] = [];
    for (let rank = 0; rank < 3; rank++) {
      const { batches } = await digestOf(plain, { batch: 2, rank, world_size: 3, loop: false });
      shares.push(batches.flatMap((b) => [...b.recordIndices.subarray(0, b.count)]));
    }
    assert.deepEqual(shares.map((s) => s.length), [7, 7, 7]); // ⌈20 / 3⌉, the last one a flagged repeat
    const all = shares.flat();
    assert.deepEqual([...new Set(all)].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(all.length - new Set(all).size, 1);
  });
});

describe('errors', () => {
  test("onError 'throw' names the record and the file", async () => {
    const stream = await ImageStream.open(corrupt, { batch: 2, loop: false, shuffle: false });
    await stream.next();
    await assert.rejects(stream.next(), (e: unknown) => e instanceof SampleError && e.recordIndex === 3 && e.message.includes(corrupt) && /record 3/.test(e.message));
    // Continuing after the error loses nothing but the bad record: record 2 was gathered before it.
    assert.deepEqual([...(await stream.next())!.recordIndices], [2, 4]);
    await stream.close();
  });

  test("onError 'skip' counts bad records and takes the next samples, the same for every thread count", async () => {
    const inline = await digestOf(corrupt, { batch: 4, loop: false }, { onError: 'skip' });
    assert.equal(inline.skipped, 2);
    const records = inline.batches.flatMap((b) => [...b.recordIndices.subarray(0, b.count)]);
    assert.equal(records.length, 10);
    assert.ok(!records.includes(3) && !records.includes(7));
    assert.deepEqual(inline.batches.map((b) => b.count), [4, 4, 2]);
    const pooled = await digestOf(corrupt, { batch: 4, loop: false, threads: 2, preload: 2 }, { onError: 'skip' });
    assert.equal(pooled.digest, inline.digest);
    assert.equal(pooled.skipped, 2);
  });

  test('bad arguments are TypeError/RangeError at open', async () => {
    await assert.rejects(ImageStream.open(plain, {}, { onError: 'stop' as never }), TypeError);
    await assert.rejects(ImageStream.open(plain, { multi_images: 2, batch: 2 }), RangeError);
    await assert.rejects(ImageStream.open(plain, { batch: 0 }), RangeError);
    await assert.rejects(ImageStream.open(42 as never), TypeError);
  });

  test('samples of different sizes cannot share a batch; batch 1 streams them', async () => {
    const varied = await writeFixture(`${dir}/varied.picpac`, { count: 6, varySize: true });
    await assert.rejects(digestOf(varied, { batch: 2, loop: false, shuffle: false }), /same shape/);
    const single = await digestOf(varied, { batch: 1, loop: false, shuffle: false, threads: 1 });
    assert.deepEqual(single.batches.map((b) => b.imageShape[2]), [32, 36, 40, 32, 36, 40]);
  });

  test('a stream that is never closed does not keep the process alive', async () => {
    const script = `${dir}/forgot-close.mts`;
    const module = pathToFileURL(new URL('../../src/augment/stream/stream.ts', import.meta.url).pathname).href;
    await writeFile(script, `import { ImageStream } from ${JSON.stringify(module)};\n` +
      `const s = await ImageStream.open(${JSON.stringify(plain)}, { threads: 2 });\n` +
      `console.log((await s.next()).count, (await s.stats()).times.samples > 0);\n`);
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', script], { timeout: 20000 }, (error, stdout) => resolve({ code: error ? (error.code as number) : 0, stdout }));
      void child;
    });
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), '1 true');
  });

  test('next() after close() is a ClosedError; leaving a for-await loop closes the stream', async () => {
    const stream = await ImageStream.open(plain, { threads: 1 });
    for await (const batch of stream) {
      assert.equal(batch.count, 1);
      break;
    }
    await assert.rejects(stream.next(), ClosedError);
  });
});

describe('stores, buffers, labels', () => {
  test('an in-memory store runs inline (warning) and gives the same batches as the file', async () => {
    const store = await openSourceStore(new MemorySource(new Uint8Array(await readFile(plain)), 'in-memory'));
    const config = { ...AUGMENT, batch: 4, loop: false, crop_width: 24, crop_height: 20 };
    const stream = await ImageStream.open(store, { ...config, threads: 2 });
    assert.ok(stream.warnings.some((w) => /threads 2 ignored/.test(w)));
    const fromMemory = await drain(stream);
    await stream.close();
    await store.close();
    const fromFile = await digestOf(plain, config);
    assert.equal(fromMemory.digest, fromFile.digest);
  });

  test('workers read a local file with the caller\'s index: they do not open it again', async () => {
    const file = await writeFixture(`${dir}/handed-index.picpac`, { count: 12, annotate: true });
    const config = { ...AUGMENT, batch: 4, loop: false, crop_width: 24, crop_height: 20 };
    const reference = await digestOf(file, { ...config, threads: 0 });
    const store = await openStore(file);
    // Damage the signature in place (same file): opening the path again now fails, reading the
    // records through the index the caller already holds does not.
    const { open } = await import('node:fs/promises');
    const handle = await open(file, 'r+');
    await handle.write(new Uint8Array(8), 0, 8, 0);
    await handle.close();
    await assert.rejects(openStore(file));
    const stream = await ImageStream.open(store, { ...config, threads: 2 });
    const run = await drain(stream);
    await stream.close();
    await store.close();
    assert.equal(run.digest, reference.digest);
  });

  test('workers read what the caller opened: a recovered store (uncommitted records) streams the same with threads', async () => {
    const file = await writeFixture(`${dir}/torn.picpac`, { count: 8, annotate: true });
    const source = await openStore(file);
    const appender = await PicpacWriter.append(file, { bufferBytes: 0 });
    for (let i = 0; i < 4; i++) {
      const r = await source.get(i);
      await appender.append({ label: r.label, fields: r.fields.map((f) => ({ kind: f.kind, codec: f.codec, bytes: f.bytes.slice(), width: f.width, height: f.height })), annotation: r.annotation });
    }
    await source.close();
    await appender.abort(); // killed before its commit: 4 records after the last commit
    const config = { ...AUGMENT, batch: 3, loop: false, crop_width: 24, crop_height: 20 };
    const runs: string[] = [];
    for (const threads of [0, 2]) {
      const store = await PicpacReader.open(file, { recover: true }); // 12 records; opening the path again gives 8
      assert.equal(store.recordCount, 12);
      const stream = await ImageStream.open(store, { ...config, threads });
      const run = await drain(stream);
      await stream.close();
      await store.close();
      assert.equal(run.batches.reduce((n, b) => n + b.count, 0), 12);
      runs.push(run.digest);
    }
    assert.equal(runs[1], runs[0]);
  });

  test('reuseBuffers recycles batch tensors; the default hands out fresh ones', async () => {
    const config = { batch: 2, threads: 1, preload: 2 };
    for (const reuse of [true, false]) {
      const stream = await ImageStream.open(plain, config, { reuseBuffers: reuse });
      const buffers = new Set<ArrayBufferLike>();
      for (let i = 0; i < 12; i++) buffers.add((await stream.next())!.images.buffer);
      await stream.close();
      if (reuse) assert.ok(buffers.size < 8, `${buffers.size} distinct buffers`);
      else assert.equal(buffers.size, 12);
    }
  });

  test('float labels with stratify: the sampler warning is surfaced, the stream runs', async () => {
    const floats = await writeFixture(`${dir}/floats.picpac`, { count: 6, label: (i) => i + 0.5 });
    const run = await digestOf(floats, { stratify: true, loop: false, batch: 3 });
    assert.ok(run.warnings.some((w) => /strat/i.test(w)), run.warnings.join('; '));
    assert.deepEqual([...run.batches[0].labels].every((v) => v % 1 === 0.5), true);
  });

  test('label kinds: one-hot per image, JSON per-pixel one-hot (NCHW), label images, auto', async () => {
    const onehot = (await digestOf(plain, { batch: 4, onehot: 3, loop: false })).batches[0];
    assert.deepEqual(onehot.labelShape, [4, 3]);
    for (let i = 0; i < 4; i++) assert.equal(onehot.labels[i * 3 + (onehot.recordIndices[i] % 3)], 1);

    const pixel = (await digestOf(plain, { batch: 2, annotate: 'json', onehot: 2, order: 'NCHW', loop: false })).batches[0];
    assert.deepEqual(pixel.imageShape, [2, 3, 24, 32]);
    assert.deepEqual(pixel.labelShape, [2, 2, 24, 32]);
    const plane = 24 * 32;
    let ones = 0;
    for (let p = 0; p < plane; p++) {
      assert.equal(pixel.labels[p] + pixel.labels[plane + p], 1);
      ones += pixel.labels[plane + p];
    }
    assert.ok(ones > 0.1 * plane && ones < 0.3 * plane, `rect covers ${ones} pixels`);

    const masks = await writeFixture(`${dir}/masks.picpac`, { count: 4, labelImage: true, format: 'png' });
    const image = (await digestOf(masks, { batch: 2, annotate: 'image', loop: false, shuffle: false })).batches[0];
    assert.deepEqual(image.labelShape, [2, 24, 32, 1]);
    assert.equal(image.labels[0], 1);
    assert.equal(image.labels[31], 2);
    // PNG is lossless: pixel (1, 0) of record 0 is RGB (8, 0, 4), batched as BGR.
    assert.deepEqual([...image.images.subarray(3, 6)], [4, 0, 8]);

    const auto = (await digestOf(plain, { batch: 1, annotate: 'auto', loop: false, mean_color1: 10 })).batches[0];
    assert.deepEqual(auto.labelShape, [1, 24, 32, 3]);
    assert.deepEqual(auto.labels, auto.images);
  });

  test('a mixin store is appended (sourceIndices 1), describe() chains the sampler and stores', async () => {
    const mixin = await writeFixture(`${dir}/mixin.picpac`, { count: 5, label: () => 7 });
    const stream = await ImageStream.open(plain, { mixin, loop: false, batch: 5, threads: 1 });
    assert.equal(stream.total(), 25);
    assert.equal(stream.size(), 25);
    const text = stream.describe();
    assert.match(text, /^imageStream\(batch 5, NHWC float32 BGR, label, 1 threads/);
    assert.match(text, /<- sampler\(25 of 25 records/);
    assert.ok(text.includes(mixin));
    const { batches } = await drain(stream);
    await stream.close();
    const fromMixin = batches.flatMap((b) => [...b.sourceIndices]).filter((s) => s === 1).length;
    assert.equal(fromMixin, 5);
    for (const b of batches) for (let i = 0; i < b.count; i++) if (b.sourceIndices[i] === 1) assert.equal(b.labels[i], 7);
 
    // The same mixin as a Store object (options.mixin): the same batches.
    const mixinStore = await openStore(mixin);
    const viaObject = await digestOf(plain, { loop: false, batch: 5, threads: 2 }, { mixin: mixinStore });
    await mixinStore.close();
    const viaPath = await digestOf(plain, { mixin, loop: false, batch: 5 });
    assert.equal(viaObject.digest, viaPath.digest);
    await assert.rejects(ImageStream.open(plain, { mixin }, { mixin: mixinStore }), TypeError);
  });
});

describe('decoding', () => {
  test('the raw-tensor field streams exactly (uint8 [H, W, 3], and float32 [H, W] grey)', async () => {
    const file = `${dir}/tensor.picpac`;
    const writer = await PicpacWriter.create(file, { overwrite: true, fsyncOnClose: false });
    const rgbData = pixels(4, 2, 1);
    await writer.append({ label: 1, fields: [{ kind: 'tensor', codec: TensorDType.uint8, bytes: encodeTensor({ dtype: TensorDType.uint8, shape: [2, 4, 3], data: rgbData }) }] });
    const grey = new Float32Array([0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]);
    await writer.append({ label: 2, fields: [{ kind: 'tensor', codec: TensorDType.float32, bytes: encodeTensor({ dtype: TensorDType.float32, shape: [2, 4], data: new Uint8Array(grey.buffer) }) }] });
    await writer.close();
    const { batches } = await digestOf(file, { loop: false, shuffle: false, bgr2rgb: true });
    assert.deepEqual(batches[0].imageShape, [1, 2, 4, 3]);
    assert.deepEqual([...batches[0].images], [...rgbData]);
    assert.deepEqual(batches[1].imageShape, [1, 2, 4, 1]);
    assert.deepEqual([...batches[1].images], [...grey]);
  });

  test('grey PNG and grey JPEG stay one channel (decode_mode -1), channels 3 converts', async () => {
    const grey = new Uint8Array(16 * 8).map((_, i) => i);
    for (const format of ['png', 'jpeg'] as const) {
      const bytes = await encode(grey, 16, 8, 1, format);
      assert.equal(isGreySource(bytes), true, format);
      const field = { kind: 'image' as const, type: `image/${format}`, codec: format === 'png' ? 2 : 1, bytes, width: 16, height: 8 };
      assert.equal((await decodeField(field, 0, -1, 0)).channels, 1);
      assert.equal((await decodeField(field, 0, -1, 3)).channels, 3);
      assert.equal((await decodeField(field, 0, 1, 0)).channels, 3);
    }
    assert.equal(isGreySource(await encode(pixels(8, 8, 0), 8, 8, 3, 'jpeg')), false);
  });
});

describe('PicPac 1.0 stores', { skip: existsSync(legacyDir) ? false : '../shared/vectors/legacy-v1 absent' }, () => {
  test('a legacy v1 file with annotations streams with JSON label maps, the same for threads 0 and 2', async () => {
    const file = path.join(legacyDir, 'v1-anno.db');
    const config = { annotate: 'json', batch: 4, loop: false, perturb: true, pert_angle: 10, crop_width: 96, crop_height: 72 };
    const inline = await digestOf(file, { ...config, threads: 0 });
    assert.equal(inline.batches.reduce((n, b) => n + b.count, 0), 40);
    assert.deepEqual(inline.batches[0].imageShape, [4, 72, 96, 3]);
    assert.ok(inline.batches[0].labels.some((v) => v === 1), 'plates rasterised');
    const pooled = await digestOf(file, { ...config, threads: 2 });
    assert.equal(pooled.digest, inline.digest);
  });
});

describe('16-bit PNG', () => {
  test('grey 16-bit samples reach the float batch unchanged', async () => {
    const file = `${dir}/png16.picpac`;
    const values = new Uint16Array(8 * 4).map((_, i) => i * 2000 + 7);
    const bytes = new Uint8Array(await sharp(values, { raw: { width: 8, height: 4, channels: 1 } }).toColourspace('grey16').png().toBuffer());
    const writer = await PicpacWriter.create(file, { overwrite: true, fsyncOnClose: false });
    await writer.append({ fields: [{ kind: 'image', bytes }] });
    await writer.close();
    const { batches } = await digestOf(file, { loop: false });
    assert.deepEqual(batches[0].imageShape, [1, 4, 8, 1]);
    assert.deepEqual([...batches[0].images], [...values]);
  });
});

describe('multi_images (v1 MultiImageStream, REFERENCE §1.6.1)', () => {
  const H = 24, W = 32;
  let three: string;
  let same: string;
  before(async () => {
    three = await writeFixture(`${dir}/multi3.picpac`, { count: 6, imageFields: 3, annotate: true, format: 'png' });
    same = await writeFixture(`${dir}/multi-same.picpac`, { count: 6, imageFields: 3, sameImages: true, annotate: true });
  });

  test('fields 0…2 are the images, the annotation the label: images [3, H, W, C], labels [1, H, W, 1]', async () => {
    const { batches } = await digestOf(three, { multi_images: 3, annotate: 'json', loop: false, shuffle: false });
    assert.equal(batches.length, 6);
    const first = batches[0];
    assert.deepEqual(first.imageShape, [3, H, W, 3]);
    assert.deepEqual(first.labelShape, [1, H, W, 1]);
    assert.equal(first.count, 1);
    assert.equal(first.images.length, 3 * H * W * 3);
    // PNG is lossless and nothing is perturbed: row k is field k = pixels(…, 0 + k), batched as BGR.
    const per = H * W * 3;
    for (let k = 0; k < 3; k++) {
      const rgb = pixels(W, H, k);
      const row = first.images.subarray(k * per, (k + 1) * per);
      assert.deepEqual([row[0], row[1], row[2]], [rgb[2], rgb[1], rgb[0]], `image ${k}`);
      assert.deepEqual([row[per - 3], row[per - 2], row[per - 1]], [rgb[per - 1], rgb[per - 2], rgb[per - 3]], `image ${k}`);
    }
    const ones = first.labels.reduce((n, v) => n + v, 0);
    assert.equal(ones, Math.round(0.3 * W) * Math.round(0.4 * H)); // the fixture's rect of record 0

    const nchw = (await digestOf(three, { multi_images: 3, annotate: 'json', order: 'NCHW', loop: false }, {}, 1)).batches[0];
    assert.deepEqual(nchw.imageShape, [3, 3, H, W]);
    assert.deepEqual(nchw.labelShape, [1, 1, H, W]);
    const perImage = (await digestOf(three, { multi_images: 3, onehot: 3, loop: false }, {}, 1)).batches[0];
    assert.deepEqual(perImage.imageShape, [3, H, W, 3]);
    assert.deepEqual(perImage.labelShape, [1, 3]);
  });

  test('one geometry and perturbation for all images: the same picture in each field gives identical rows', async () => {
    const config = { ...AUGMENT, multi_images: 3, crop_width: 24, crop_height: 20, loop: false };
    const { batches } = await digestOf(same, config);
    const per = 20 * 24 * 3;
    for (const b of batches) {
      assert.deepEqual(b.imageShape, [3, 20, 24, 3]);
      assert.deepEqual(b.images.subarray(per, 2 * per), b.images.subarray(0, per));
      assert.deepEqual(b.images.subarray(2 * per, 3 * per), b.images.subarray(0, per));
    }
    // Image 0 and the label are exactly what the single-image stream makes of field 0.
    const single = await digestOf(same, { ...config, multi_images: 1 });
    batches.forEach((b, i) => {
      assert.deepEqual(b.images.subarray(0, per), single.batches[i].images);
      assert.deepEqual(b.labels, single.batches[i].labels);
    });
    // Different pictures still get the same geometry: rows differ, but not in where the crop/rotation left zeros.
    const mixed = (await digestOf(three, config, {}, 1)).batches[0];
    assert.notDeepEqual(mixed.images.subarray(per, 2 * per), mixed.images.subarray(0, per));
  });

  test('batch > 1 is rejected at open with a message naming batch and multi_images', async () => {
    await assert.rejects(ImageStream.open(three, { multi_images: 3, batch: 4 }), (e: unknown) =>
      e instanceof RangeError && /batch/.test(e.message) && /multi_images is 3/.test(e.message) && /\b1\b/.test(e.message));
  });

  test('threads 0 and 2 give the same bytes (with and without cache)', async () => {
    const config = { ...AUGMENT, multi_images: 3, crop_width: 24, crop_height: 20, loop: false };
    const inline = await digestOf(three, { ...config, threads: 0 });
    for (const cache of [true, false]) {
      const pooled = await digestOf(three, { ...config, threads: 2, preload: 3, cache });
      assert.equal(pooled.digest, inline.digest, `cache ${cache}`);
    }
    const looping = await digestOf(three, { ...config, loop: true, threads: 0 }, {}, 9);
    const loopingPooled = await digestOf(three, { ...config, loop: true, threads: 2 }, {}, 9);
    assert.equal(loopingPooled.digest, looping.digest);
  });

  test('field n as a label image (annotate=image); too few image fields name the record and field', async () => {
    const file = `${dir}/multi-mask.picpac`;
    const writer = await PicpacWriter.create(file, { overwrite: true, fsyncOnClose: false });
    const mask = new Uint8Array(W * H).map((_, p) => ((p % W) < W / 2 ? 1 : 2));
    const image = await encode(pixels(W, H, 0), W, H, 3, 'png');
    await writer.append({ fields: [{ kind: 'image', bytes: image }, { kind: 'image', bytes: image }, { kind: 'label', bytes: await encode(mask, W, H, 1, 'png') }] });
    await writer.append({ fields: [{ kind: 'image', bytes: image }] });
    await writer.close();
    const stream = await ImageStream.open(file, { multi_images: 2, annotate: 'image', loop: false, shuffle: false });
    const b = (await stream.next())!;
    assert.deepEqual(b.imageShape, [2, H, W, 3]);
    assert.deepEqual(b.labelShape, [1, H, W, 1]);
    assert.equal(b.labels[0], 1);
    assert.equal(b.labels[W - 1], 2);
    await assert.rejects(stream.next(), (e: unknown) => e instanceof SampleError && e.recordIndex === 1 && /field 1 is missing/.test(e.message));
    await stream.close();
  });
});
