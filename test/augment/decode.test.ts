// Decoding into Image: JPEG/PNG/WebP (8/16-bit, grey/colour/alpha) against sharp's raw output
// within a small tolerance (different libjpeg builds may round differently), limits, errors,
// tensors and v1 raw matrices, the decoder registry.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { LimitExceededError, FormatError } from '../../src/errors.ts';
import { decodeImage, decodeImageSync, listImageDecoders, registerImageDecoder } from '../../src/augment/pixels/decode.ts';
import { UnsupportedPixelFormatError, convertChannels } from '../../src/augment/pixels/image.ts';
import type { Image } from '../../src/augment/pixels/image.ts';
import { imageFromCvMatrix, imageFromTensor } from '../../src/augment/pixels/tensor-image.ts';
import { ImageCodec, TensorDType } from '../../src/format/layout.ts';

const W = 48;
const H = 32;

function gradient(channels: number, max: number): Uint8Array | Uint16Array {
  const data = max > 255 ? new Uint16Array(W * H * channels) : new Uint8Array(W * H * channels);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < channels; c++) {
    data[(y * W + x) * channels + c] = Math.round(((x * 5 + y * 3 + c * 40) % 256) / 255 * max);
  }
  return data;
}

async function sharpRaw(bytes: Uint8Array): Promise<{ data: Uint8Array | Uint16Array; channels: number }> {
  // sharp's raw output defaults to 8-bit sRGB: ask for the stored depth and grey explicitly.
  const meta = await sharp(bytes).metadata();
  const wide16 = meta.depth === 'ushort';
  const grey = (meta.channels ?? 3) <= 2;
  let pipeline = sharp(bytes);
  if (wide16) pipeline = pipeline.toColourspace(grey ? 'grey16' : 'rgb16');
  else if (grey) pipeline = pipeline.toColourspace('b-w');
  const { data, info } = await pipeline.raw(wide16 ? { depth: 'ushort' } : undefined).toBuffer({ resolveWithObject: true });
  const wide = data.length === info.width * info.height * info.channels * 2;
  return { data: wide ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2) : new Uint8Array(data), channels: info.channels };
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

describe('decodeImageSync matches sharp raw output', () => {
  const cases: Array<{ name: string; make: () => Promise<Buffer>; channels: number; type: string; tolerance: number }> = [
    { name: 'JPEG colour', make: () => sharp(gradient(3, 255), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90 }).toBuffer(), channels: 3, type: 'Uint8Array', tolerance: 1.5 },
    { name: 'JPEG grey', make: () => sharp(gradient(1, 255), { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer(), channels: 1, type: 'Uint8Array', tolerance: 1.5 },
    { name: 'PNG 8-bit colour', make: () => sharp(gradient(3, 255), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer(), channels: 3, type: 'Uint8Array', tolerance: 0 },
    { name: 'PNG 8-bit grey', make: () => sharp(gradient(1, 255), { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').png().toBuffer(), channels: 1, type: 'Uint8Array', tolerance: 0 },
    { name: 'PNG 8-bit RGBA', make: () => sharp(gradient(4, 255), { raw: { width: W, height: H, channels: 4 } }).png().toBuffer(), channels: 4, type: 'Uint8Array', tolerance: 0 },
    { name: 'PNG 16-bit colour', make: () => sharp(gradient(3, 65535) as Uint16Array, { raw: { width: W, height: H, channels: 3, depth: 'ushort' } as never }).toColourspace('rgb16').png().toBuffer(), channels: 3, type: 'Uint16Array', tolerance: 0 },
    { name: 'PNG 16-bit grey', make: () => sharp(gradient(1, 65535) as Uint16Array, { raw: { width: W, height: H, channels: 1, depth: 'ushort' } as never }).toColourspace('grey16').png().toBuffer(), channels: 1, type: 'Uint16Array', tolerance: 0 },
    { name: 'WebP lossless', make: () => sharp(gradient(3, 255), { raw: { width: W, height: H, channels: 3 } }).webp({ lossless: true }).toBuffer(), channels: 3, type: 'Uint8Array', tolerance: 0 },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const bytes = new Uint8Array(await c.make());
      const image = decodeImageSync(bytes);
      const ref = await sharpRaw(bytes);
      assert.deepEqual([image.width, image.height, image.channels, image.data.constructor.name], [W, H, c.channels, c.type]);
      assert.equal(ref.channels, c.channels, 'sharp agrees on the channel count');
      const mad = meanAbsDiff(image.data, ref.data);
      assert.ok(mad <= c.tolerance, `mean abs diff ${mad}`);
      const viaAsync = await decodeImage(bytes);
      assert.deepEqual(viaAsync, image);
    });
  }

  test('grey+alpha PNG becomes RGBA (OpenCV PNG reader rule)', async () => {
    const la = new Uint8Array(W * H * 2).map((_, i) => (i % 2 === 0 ? i % 256 : 200));
    const bytes = await sharp(la, { raw: { width: W, height: H, channels: 2 } }).png().toBuffer();
    const image = decodeImageSync(bytes);
    assert.equal(image.channels, 4);
    assert.deepEqual(Array.from(image.data.subarray(0, 4)), [0, 0, 0, 200]);
  });

  test('the decoded data is a plain Uint8Array (slice copies; a Buffer would alias)', async () => {
    const bytes = await sharp(gradient(3, 255), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
    const image = decodeImageSync(bytes);
    assert.equal(Object.getPrototypeOf(image.data), Uint8Array.prototype);
  });
});

describe('decode options and conversions', () => {
  test('channels 1/3 conversion and decode_mode', async () => {
    const bytes = await sharp(gradient(4, 255), { raw: { width: W, height: H, channels: 4 } }).png().toBuffer();
    assert.equal(decodeImageSync(bytes, { channels: 3 }).channels, 3);
    const grey = decodeImageSync(bytes, { channels: 1 });
    assert.equal(grey.channels, 1);
    const rgba = decodeImageSync(bytes);
    // OpenCV luma: 0.299 R + 0.587 G + 0.114 B.
    const [r, g, b] = rgba.data.subarray(4, 7);
    assert.ok(Math.abs(grey.data[1] - (0.299 * r + 0.587 * g + 0.114 * b)) <= 1);
    assert.equal(decodeImageSync(bytes, { decodeMode: 1 }).channels, 3);
    const png16 = await sharp(gradient(3, 65535) as Uint16Array, { raw: { width: W, height: H, channels: 3, depth: 'ushort' } as never }).toColourspace('rgb16').png().toBuffer();
    const eight = decodeImageSync(png16, { decodeMode: 0 });
    assert.ok(eight.data instanceof Uint8Array && eight.channels === 1);
  });

  test('grey → 3 replicates; unsupported conversions throw UnsupportedPixelFormatError', () => {
    const grey: Image = { width: 2, height: 1, channels: 1, data: Uint8Array.of(7, 9) };
    assert.deepEqual(Array.from(convertChannels(grey, 3).data), [7, 7, 7, 9, 9, 9]);
    const rgb: Image = { width: 1, height: 1, channels: 3, data: Uint8Array.of(1, 2, 3) };
    assert.throws(() => convertChannels(rgb, 4), UnsupportedPixelFormatError);
    assert.throws(() => convertChannels(rgb, 2), /from 3 to 2 channels/);
  });

  // [SEC-3] decoded pixels are limited, and the limit is checked against the image's own header
  // (never the field descriptor's width/height), before any pixel buffer is allocated.
  test('maxImagePixels is enforced from the header, before decoding [SEC-3]', async () => {
    const bytes = await sharp(gradient(3, 255), { raw: { width: W, height: H, channels: 3 } }).jpeg().toBuffer();
    assert.throws(() => decodeImageSync(bytes, { maxImagePixels: W * H - 1, recordIndex: 4 }),
      (e: unknown) => e instanceof LimitExceededError && e.recordIndex === 4 && /exceeds maxImagePixels/.test(e.message));
    // A header claiming 60000 × 60000 is refused without allocating 10 GB.
    const bomb = new Uint8Array(bytes);
    const sof = bomb.findIndex((v, i) => v === 0xff && bomb[i + 1] === 0xc0);
    bomb[sof + 5] = 0xea; bomb[sof + 6] = 0x60; bomb[sof + 7] = 0xea; bomb[sof + 8] = 0x60;
    assert.throws(() => decodeImageSync(bomb), LimitExceededError);
    assert.doesNotThrow(() => decodeImageSync(bytes, { maxImagePixels: W * H }));
  });

  test('garbage and truncated bytes → FormatError naming the record; bad options → TypeError', async () => {
    assert.throws(() => decodeImageSync(Uint8Array.of(1, 2, 3, 4, 5), { recordIndex: 9 }),
      (e: unknown) => e instanceof FormatError && e.recordIndex === 9 && /unrecognised image bytes/.test(e.message));
    const bytes = await sharp(gradient(3, 255), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
    assert.throws(() => decodeImageSync(bytes.subarray(0, 60), { recordIndex: 2 }), (e: unknown) => e instanceof FormatError && e.recordIndex === 2);
    await assert.rejects(decodeImage(bytes.subarray(0, 60)), FormatError);
    assert.throws(() => decodeImageSync(bytes, { channels: 2 }), TypeError);
    assert.throws(() => decodeImageSync(bytes, { decodeMode: 3 as never }), TypeError);
    assert.throws(() => decodeImageSync('x' as never), TypeError);
  });

  test('a codec with only async decoders: decodeImageSync refuses, decodeImage uses sharp', async () => {
    const tiff = new Uint8Array(await sharp(gradient(3, 255), { raw: { width: W, height: H, channels: 3 } }).tiff().toBuffer());
    assert.throws(() => decodeImageSync(tiff), /no synchronous decoder registered for tiff/);
    const image = await decodeImage(tiff);
    assert.deepEqual([image.width, image.height, image.channels], [W, H, 3]);
  });
});

describe('worker_threads', () => {
  test('the hot-path decoder (@napi-rs/image, a native addon) loads and decodes inside a worker', async () => {
    const bytes = new Uint8Array(await sharp(gradient(3, 255), { raw: { width: W, height: H, channels: 3 } }).jpeg().toBuffer());
    const modulePath = createRequire(import.meta.url).resolve('@napi-rs/image');
    const code = `const { parentPort, workerData } = require('node:worker_threads');
      const { Transformer } = require(workerData.modulePath);
      parentPort.postMessage(new Transformer(workerData.bytes).rawPixelsSync().length);`;
    const worker = new Worker(code, { eval: true, workerData: { bytes, modulePath } });
    const length = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    await worker.terminate();
    assert.equal(length, W * H * 3);
  });
});

describe('decoder registry', () => {
  test('registration is validated; a later registration wins', () => {
    assert.throws(() => registerImageDecoder({ name: '', codecs: [ImageCodec.bmp], decodeSync: () => { throw new Error(); } }), TypeError);
    assert.throws(() => registerImageDecoder({ name: 'x', codecs: [99 as never], decodeSync: () => { throw new Error(); } }), TypeError);
    assert.throws(() => registerImageDecoder({ name: 'x', codecs: [ImageCodec.bmp] }), TypeError);
    const fake: Image = { width: 1, height: 1, channels: 1, data: Uint8Array.of(42) };
    registerImageDecoder({ name: 'test-v1raw', codecs: [ImageCodec.v1raw], decodeSync: () => fake });
    assert.ok(listImageDecoders().some((d) => d.name === 'test-v1raw'));
  });
});

describe('tensor and raw-matrix images', () => {
  test('uint8 HWC tensor; float64 becomes float32; bad rank refused', () => {
    const t = imageFromTensor({ dtype: TensorDType.uint8, shape: [2, 3, 3], data: new Uint8Array(18).map((_, i) => i) });
    assert.deepEqual([t.width, t.height, t.channels, t.data[17]], [3, 2, 3, 17]);
    const bytes = new Uint8Array(8 * 4);
    new DataView(bytes.buffer).setFloat64(8, 2.5, true);
    const f = imageFromTensor({ dtype: TensorDType.float64, shape: [2, 2], data: bytes });
    assert.ok(f.data instanceof Float32Array);
    assert.equal(f.data[1], 2.5);
    assert.throws(() => imageFromTensor({ dtype: TensorDType.uint8, shape: [4], data: new Uint8Array(4) }), UnsupportedPixelFormatError);
    assert.throws(() => imageFromTensor({ dtype: TensorDType.uint8, shape: [1, 1, 5], data: new Uint8Array(5) }), UnsupportedPixelFormatError);
  });

  test('unaligned uint16 tensor data is read little-endian', () => {
    const backing = new Uint8Array(5);
    backing.set([0x34, 0x12, 0xff, 0x00], 1);
    const t = imageFromTensor({ dtype: TensorDType.uint16, shape: [1, 2], data: backing.subarray(1) });
    assert.deepEqual(Array.from(t.data), [0x1234, 0xff]);
  });

  test('OpenCV type codes: CV_8UC3 = 16, CV_32FC1 = 5', () => {
    const m = imageFromCvMatrix({ cvType: 16, rows: 1, cols: 2, data: Uint8Array.of(1, 2, 3, 4, 5, 6) });
    assert.deepEqual([m.channels, m.width, m.height], [3, 2, 1]);
    const f = new Uint8Array(4);
    new DataView(f.buffer).setFloat32(0, -1.5, true);
    assert.equal(imageFromCvMatrix({ cvType: 5, rows: 1, cols: 1, data: f }).data[0], -1.5);
    assert.throws(() => imageFromCvMatrix({ cvType: 7, rows: 1, cols: 1, data: new Uint8Array(8) }), UnsupportedPixelFormatError);
    assert.throws(() => imageFromCvMatrix({ cvType: 0, rows: 2, cols: 2, data: new Uint8Array(3) }), UnsupportedPixelFormatError);
  });
});
