// The WebAssembly SIMD kernels (src/augment/pixels/wasm/warp.wat via warp-simd.ts and batch-simd.ts)
// against the JS kernels they replace: bit-identical output for the warp (any plan, with and
// without colour tables, edges, padding) and for the float32 batch conversion, the JS fallback
// switches, and the committed generated module matching the WAT source.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { rgb8PermuteWasm, rgb8ToFloatWasm } from '../../src/augment/pixels/batch-simd.ts';
import { allocImages, batchLayout, writeImage } from '../../src/augment/stream/batch.ts';
import { parseStreamConfig } from '../../src/augment/config.ts';
import { additiveColorLut } from '../../src/augment/pixels/color.ts';
import type { Image } from '../../src/augment/pixels/image.ts';
import { planCrop, planGeometry, warpImage, warpLabel } from '../../src/augment/pixels/warp.ts';
import type { GeometryPlan } from '../../src/augment/pixels/warp.ts';
import { bilinear8c3Wasm, nearest8c1Wasm, setWarpBackend, warpBackend } from '../../src/augment/pixels/warp-simd.ts';
import { makeImage, seededRandom } from './helpers.ts';

after(() => setWarpBackend('auto'));

/**
 * warpImage with the JS kernel and with the default (wasm) one, the latter into junk-filled
 * storage (`into`, larger than the output): the wasm path writes every output byte itself.
 */
function bothKernels(image: Image, plan: GeometryPlan, lut?: Uint8Array): { js: Image; wasm: Image } {
  setWarpBackend('js');
  const js = warpImage(image, plan, lut ? { lut } : {});
  setWarpBackend('auto');
  const junk = new Uint8Array(plan.width * plan.height * image.channels + 7).fill(0xa5);
  const wasm = warpImage(image, plan, { ...(lut && { lut }), into: junk });
  return { js, wasm: { ...wasm, data: wasm.data.slice() } };
}

function noisy(width: number, height: number, seed: number): Image {
  const rng = seededRandom(seed);
  return { width, height, channels: 3, data: new Uint8Array(width * height * 3).map(() => rng.nextU32() & 255) };
}

const digest = (image: Image) => createHash('sha256').update(image.data).digest('hex');

describe('warp: WebAssembly SIMD kernel', () => {
  test('is the default for 8-bit RGB in Node 20; setWarpBackend("js") switches it off', () => {
    assert.equal(warpBackend(), 'wasm');
    setWarpBackend('js');
    assert.equal(warpBackend(), 'js');
    const plan = planGeometry(8, 8, { angle: 10 });
    assert.equal(bilinear8c3Wasm(noisy(8, 8, 1).data as Uint8Array, 8, 8, plan, new Uint8Array(8 * 8 * 3), undefined), false, 'declines when set to js');
    setWarpBackend('auto');
    assert.equal(warpBackend(), 'wasm');
  });

  test('bit-identical to the JS kernel on random v1 plans, with no table, additive tables and arbitrary tables', () => {
    const table = fc.oneof(
      fc.constant(undefined),
      fc.tuple(fc.integer({ min: -300, max: 300 }), fc.integer({ min: -300, max: 300 }), fc.integer({ min: -300, max: 300 }))
        .map((d) => additiveColorLut(d, 'BGR', 3)!),
      fc.uint8Array({ minLength: 768, maxLength: 768 }),
    );
    fc.assert(fc.property(
      fc.record({
        width: fc.integer({ min: 2, max: 70 }), height: fc.integer({ min: 2, max: 70 }),
        angle: fc.double({ min: -180, max: 180, noNaN: true }), scale: fc.double({ min: 0.3, max: 2.5, noNaN: true }),
        hflip: fc.boolean(), vflip: fc.boolean(),
        cropWidth: fc.integer({ min: -1, max: 90 }), cropHeight: fc.integer({ min: 1, max: 90 }),
        shiftX: fc.nat(), shiftY: fc.nat(), seed: fc.nat(),
      }),
      table,
      (p, lut) => {
        const image = noisy(p.width, p.height, p.seed);
        const plan = planGeometry(p.width, p.height, { ...p, randomOffsets: true });
        const { js, wasm } = bothKernels(image, plan, lut);
        assert.deepEqual(wasm, js);
      },
    ), { seed: 42, numRuns: 400 });
  });

  test('bit-identical on stream-sized photographs-like images under the §4.1 perturbations (digests)', () => {
    const rng = seededRandom(2016);
    for (const [width, height] of [[256, 256], [500, 375]]) {
      const image = makeImage(width, height, 3, (x, y, c) => (x * 3 + y * 5 + c * 70 + ((x * y) >> 5)) & 255);
      for (let i = 0; i < 12; i++) {
        const plan = planGeometry(width, height, { angle: (rng.next() * 2 - 1) * 20, scale: 0.8 + rng.next() * 0.4, hflip: (rng.nextU32() & 1) === 1 });
        const lut = additiveColorLut([(rng.nextU32() % 41) - 20, (rng.nextU32() % 41) - 20, (rng.nextU32() % 41) - 20], 'BGR', 3)!;
        const { js, wasm } = bothKernels(image, plan, lut);
        assert.equal(digest(wasm), digest(js), `${width}x${height} sample ${i}`);
      }
    }
  });

  test('edges: half-pixel clamp and zero border like the JS kernel (exact 90°, upscaling, 2-pixel sources)', () => {
    for (const [w, h, options] of [
      [8, 8, { angle: 90 }], [2, 2, { scale: 3.7 }], [2, 9, { angle: 33, scale: 1.9 }], [17, 2, { angle: -71, scale: 0.6 }],
      [5, 5, { scale: 2, cropWidth: 14, cropHeight: 12 }],
    ] as const) {
      const image = noisy(w, h, w * 31 + h);
      const plan = planGeometry(w, h, options);
      const { js, wasm } = bothKernels(image, plan, additiveColorLut([7, -9, 30], 'BGR', 3)!);
      assert.deepEqual(wasm, js, `${w}x${h} ${JSON.stringify(options)}`);
    }
  });

  test('falls back to the JS kernel where it cannot serve: 1-pixel-wide sources, far-away coordinates', () => {
    const thin = noisy(1, 9, 3);
    const plan = planGeometry(1, 9, { angle: 12, scale: 1.5 });
    assert.equal(bilinear8c3Wasm(thin.data as Uint8Array, 1, 9, plan, new Uint8Array(plan.width * plan.height * 3), undefined), false);
    const far: GeometryPlan = { ...planCrop(20, 20, { left: 0, top: 0, width: 6, height: 6 }), inverse: [1.01, 0, 30000, 0, 1, 0] };
    const image = noisy(20, 20, 4);
    assert.equal(bilinear8c3Wasm(image.data as Uint8Array, 20, 20, far, new Uint8Array(6 * 6 * 3), undefined), false);
    const { js, wasm } = bothKernels(image, far);
    assert.deepEqual(wasm, js);
    const { js: js1, wasm: wasm1 } = bothKernels(thin, plan);
    assert.deepEqual(wasm1, js1);
  });

  test('the four-pixel interior loop at the arithmetic extremes: all 0, all 255, 0/255 checkers, every run length 1–13', () => {
    // Row sums reach 65280 (all 255) and 0: the loop packs them unsigned and flips them to i16,
    // so these are its overflow edges. Crops 1–13 pixels wide give interior runs of every
    // length modulo 4 (the one-pixel tail after the four-pixel steps).
    const sources: [string, (x: number, y: number) => number][] = [
      ['0', () => 0], ['255', () => 255], ['checkers', (x, y) => ((x + y) & 1) * 255], ['stripes', (x) => (x & 1) * 255],
    ];
    for (const [name, value] of sources) {
      const image = makeImage(40, 30, 3, (x, y) => value(x, y));
      for (let width = 1; width <= 13; width++) {
        for (const options of [{ angle: 7.5, scale: 1.3 }, { angle: -31, scale: 0.7 }, { scale: 1.01 }]) {
          const plan = planGeometry(40, 30, { ...options, cropWidth: width, cropHeight: 5 });
          for (const lut of [undefined, additiveColorLut([9, -200, 120], 'BGR', 3)!]) {
            const { js, wasm } = bothKernels(image, plan, lut);
            assert.deepEqual(wasm, js, `${name}, crop width ${width}, ${JSON.stringify(options)}${lut ? ', colour' : ''}`);
          }
        }
      }
    }
  });

  test('crop padding stays 0 even when the colour table maps 0 elsewhere', () => {
    const image = makeImage(6, 6, 3, () => 100);
    const plan = planGeometry(6, 6, { angle: 45, cropWidth: 12, cropHeight: 12 });
    const out = warpImage(image, plan, { lut: additiveColorLut([50, 50, 50], 'BGR', 3)! });
    assert.deepEqual(Array.from(out.data.subarray(0, 3)), [0, 0, 0], 'padding');
    const { js, wasm } = bothKernels(image, plan, additiveColorLut([50, 50, 50], 'BGR', 3)!);
    assert.deepEqual(wasm, js);
  });
});

describe('label warp: WebAssembly kernel (nearest, 8-bit single channel)', () => {
  const plans = fc.record({
    width: fc.integer({ min: 1, max: 60 }), height: fc.integer({ min: 1, max: 60 }),
    angle: fc.double({ min: -180, max: 180, noNaN: true }), scale: fc.double({ min: 0.3, max: 2.5, noNaN: true }),
    hflip: fc.boolean(), vflip: fc.boolean(), crop: fc.integer({ min: 1, max: 80 }), shift: fc.nat(), seed: fc.nat(),
    box: fc.tuple(fc.nat({ max: 60 }), fc.nat({ max: 60 }), fc.nat({ max: 60 }), fc.nat({ max: 60 })),
  });

  test('the same bytes as the JS loop for any plan, into junk-filled storage, with or without source bounds', () => {
    fc.assert(fc.property(plans, (p) => {
      const rng = seededRandom(p.seed);
      // Zero outside the box, as a rasterised annotation is outside its drawn bounds.
      const [x0, x1] = [Math.min(p.box[0], p.box[2]), Math.max(p.box[0], p.box[2])].map((v) => Math.min(v, p.width));
      const [y0, y1] = [Math.min(p.box[1], p.box[3]), Math.max(p.box[1], p.box[3])].map((v) => Math.min(v, p.height));
      const label = makeImage(p.width, p.height, 1, (x, y) => (x >= x0 && x < x1 && y >= y0 && y < y1 ? 1 + (rng.nextU32() % 255) : 0));
      const plan = planGeometry(p.width, p.height, { angle: p.angle, scale: p.scale, hflip: p.hflip, vflip: p.vflip, cropWidth: p.crop, cropHeight: p.crop, shiftX: p.shift, shiftY: p.shift * 7, randomOffsets: true });
      for (const bounds of [undefined, { left: x0, top: y0, right: x1, bottom: y1 }]) {
        setWarpBackend('js');
        const js = warpLabel(label, plan, { sourceBounds: bounds });
        setWarpBackend('auto');
        const into = new Uint8Array(plan.width * plan.height + 3).fill(77);
        const wasm = warpLabel(label, plan, { sourceBounds: bounds, into });
        assert.deepEqual(Array.from(wasm.data), Array.from(js.data));
        assert.equal(wasm.data.buffer, into.buffer);
      }
    }), { seed: 11, numRuns: 400 });
  });

  test('serves 8-bit single-channel labels only; without wasm (setWarpBackend("js")) it declines', () => {
    const label = makeImage(9, 7, 1, (x, y) => x * 9 + y);
    const plan = planGeometry(9, 7, { angle: 30 });
    const frame = plan.frame;
    const out = new Uint8Array(plan.width * plan.height);
    assert.equal(nearest8c1Wasm(label.data as Uint8Array, 9, 7, plan, frame, out), true);
    setWarpBackend('js');
    assert.equal(nearest8c1Wasm(label.data as Uint8Array, 9, 7, plan, frame, new Uint8Array(out.length)), false);
    const js = warpLabel(label, plan);
    setWarpBackend('auto');
    assert.deepEqual(Array.from(out), Array.from(js.data));
    // Three channels take the JS loop (same answer as a per-channel warp).
    const rgb = makeImage(9, 7, 3, (x, y, k) => x + y * 9 + k * 80);
    const warped = warpLabel(rgb, plan);
    for (let k = 0; k < 3; k++) {
      const channel = warpLabel(makeImage(9, 7, 1, (x, y) => x + y * 9 + k * 80), plan);
      for (let i = 0; i < channel.data.length; i++) assert.equal(warped.data[i * 3 + k], channel.data[i]);
    }
  });
});

describe('batch: WebAssembly SIMD float32 conversion', () => {
  const js = (src: Uint8Array, per: number, map: number[], mean: number[]) => {
    const out = new Float32Array(per);
    for (let i = 0; i < per; i += 3) for (let k = 0; k < 3; k++) out[i + k] = src[i + map[k]] - mean[k];
    return out;
  };

  test('equals JS double arithmetic for float32-exact means, any pixel count, both channel orders', () => {
    const rng = seededRandom(9);
    for (const pixels of [1, 3, 4, 5, 63, 64, 65537]) {
      const src = new Uint8Array(pixels * 3).map(() => rng.nextU32() & 255);
      for (const [map, mean] of [[[2, 1, 0], [104, 117, 123]], [[0, 1, 2], [0.5, -3.25, 255]], [[2, 1, 0], [0, 0, 0]]]) {
        const target = new Float32Array(pixels * 3 + 6).fill(-7);
        assert.equal(rgb8ToFloatWasm(src, target, 3, pixels * 3, map, mean), true);
        assert.deepEqual(target.subarray(3, 3 + pixels * 3), js(src, pixels * 3, map, mean), `${pixels} pixels`);
        assert.deepEqual([...target.subarray(0, 3), ...target.subarray(3 + pixels * 3)], [-7, -7, -7, -7, -7, -7], 'nothing outside the sample');
      }
    }
  });

  test('declines (writes nothing) for means that float32 cannot hold exactly, or with the JS backend', () => {
    const src = new Uint8Array(12).fill(9);
    const target = new Float32Array(12);
    assert.equal(rgb8ToFloatWasm(src, target, 0, 12, [2, 1, 0], [103.939, 116.779, 123.68]), false);
    setWarpBackend('js');
    assert.equal(rgb8ToFloatWasm(src, target, 0, 12, [2, 1, 0], [1, 2, 3]), false);
    setWarpBackend('auto');
    assert.deepEqual([...target], new Array(12).fill(0));
  });
});

describe('batch: WebAssembly SIMD uint8 channel swap and writeImage end to end', () => {
  test('rgb8PermuteWasm equals the JS swap for any pixel count, writing only the sample', () => {
    const rng = seededRandom(5);
    for (const pixels of [1, 4, 7, 1001]) {
      const src = new Uint8Array(pixels * 3).map(() => rng.nextU32() & 255);
      const target = new Uint8Array(pixels * 3 + 4).fill(77);
      assert.equal(rgb8PermuteWasm(src, target, 2, pixels * 3, [2, 1, 0]), true);
      const expected = new Uint8Array(pixels * 3);
      for (let i = 0; i < pixels * 3; i += 3) expected.set([src[i + 2], src[i + 1], src[i]], i);
      assert.deepEqual(target.subarray(2, 2 + pixels * 3), expected);
      assert.deepEqual([...target.subarray(0, 2), ...target.subarray(2 + pixels * 3)], [77, 77, 77, 77]);
    }
  });

  test('writeImage gives the same tensor with the wasm and the JS kernels (float32 BGR/RGB, fractional means, uint8)', () => {
    const image = noisy(37, 29, 12);
    for (const config of [
      { mean_color1: 104, mean_color2: 117, mean_color3: 123 }, { bgr2rgb: true, mean_color1: 0.25, mean_color3: -8 },
      { mean_color1: 103.939, mean_color2: 116.779, mean_color3: 123.68 }, { dtype: 'uint8' }, { dtype: 'uint8', bgr2rgb: true },
    ]) {
      const layout = batchLayout(parseStreamConfig(config));
      const run = () => {
        const target = allocImages(37 * 29 * 3 * 2, layout, true);
        writeImage(image, layout, target, 1);
        return target;
      };
      setWarpBackend('js');
      const js = run();
      setWarpBackend('auto');
      assert.deepEqual(run(), js, JSON.stringify(config));
    }
  });
});

describe('generated module', () => {
  test('src/augment/pixels/wasm/*-wasm.ts are what scripts/build-wasm.ts makes from the .wat files', async (t) => {
    let build: typeof import('../../scripts/build-wasm.ts');
    try {
      build = await import('../../scripts/build-wasm.ts');
    } catch (error) {
      t.skip(`scripts/build-wasm.ts cannot run (devDependency wabt absent?): ${(error as Error).message}`);
      return;
    }
    assert.equal(build.KERNEL_MODULES.length, 2);
    for (const k of build.KERNEL_MODULES) {
      assert.equal(readFileSync(k.module, 'utf8'), await build.buildWasmModule(k), `${k.module}: run \`node --import tsx scripts/build-wasm.ts\` and commit the result`);
    }
  });
});
