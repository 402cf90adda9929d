// SamplePipeline keeps a worker's pixels in the warp kernels' memory (sample-scratch.ts): the
// bytes of every sample must equal those of the plain-array pipeline, whatever the order of image
// sizes (each bigger image re-lays the regions out), with and without augmentation.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/engine/open-store.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { batchLayout } from '../../src/augment/stream/batch.ts';
import { parseStreamConfig } from '../../src/augment/config.ts';
import { SamplePipeline } from '../../src/augment/stream/sample-pipeline.ts';
import type { SampleOutcome } from '../../src/augment/stream/sample-pipeline.ts';
import { SampleScratch } from '../../src/augment/stream/sample-scratch.ts';
import { setWarpBackend, warpBackend } from '../../src/augment/pixels/warp-simd.ts';
import { encode, pixels, rectAnnotation, tempDir } from './stream-fixtures.ts';

/** Sizes in an order that makes the regions grow several times, and shrink back. */
const SIZES: [number, number][] = [[40, 30], [300, 220], [64, 64], [17, 90], [520, 400], [33, 33], [700, 90], [256, 256]];

async function variedStore(file: string): Promise<string> {
  const writer = await PicpacWriter.create(file, { overwrite: true, fsyncOnClose: false });
  for (const [i, [w, h]] of SIZES.entries()) {
    const format = i % 3 === 2 ? 'png' : 'jpeg';
    await writer.append({ id: i, label: i % 2, fields: [{ kind: 'image', bytes: await encode(pixels(w, h, i), w, h, 3, format) }], annotation: rectAnnotation(i) });
  }
  await writer.close();
  return file;
}

async function outcomes(file: string, config: Record<string, unknown>, exclusive: boolean): Promise<SampleOutcome[]> {
  const store = await openStore(file);
  const c = parseStreamConfig({ cache: 0, ...config });
  const pipeline = new SamplePipeline([store], c, batchLayout(c), 0, { exclusive });
  const out: SampleOutcome[] = [];
  // Twice through, so samples after a re-layout meet regions sized by earlier ones.
  for (let seq = 0; seq < 2 * SIZES.length; seq++) {
    const recordIndex = seq % SIZES.length;
    const task = { seq, recordIndex, sourceIndex: 0, epoch: 0, globalOffset: seq };
    const outcome = await pipeline.run(task, pipeline.read(task));
    assert.ok(outcome.ok, outcome.error?.message);
    // Detached arrays (no dest): copy now, the next sample may reuse what they alias.
    out.push({ ...outcome, images: outcome.images?.slice(), labels: outcome.labels?.slice() });
  }
  await store.close();
  return out;
}

const CONFIGS: Record<string, Record<string, unknown>> = {
  'decode only': {},
  'full augmentation + JSON': { annotate: 'json', perturb: 1, pert_angle: 25, pert_min_scale: 0.7, pert_max_scale: 1.3, pert_color1: 20, pert_color2: 10, pert_color3: 30, pert_hflip: 1 },
  'crop larger than some images, uint8 RGB': { perturb: 1, pert_angle: 10, crop_width: 320, crop_height: 240, dtype: 'uint8', bgr2rgb: 1, order: 'NHWC' },
  'mean subtracted': { perturb: 1, pert_max_scale: 1.5, mean_color1: 104, mean_color2: 117, mean_color3: 123 },
};

for (const [name, config] of Object.entries(CONFIGS)) {
  test(`samples in the kernels' memory equal the plain pipeline's: ${name}`, async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = await variedStore(path.join(dir, 'varied.picpac'));
      const inHeap = await outcomes(file, config, true);
      const plain = await outcomes(file, config, false);
      assert.equal(inHeap.length, plain.length);
      inHeap.forEach((o, i) => {
        assert.deepEqual(o.shape, plain[i].shape, `sample ${i}`);
        assert.deepEqual(o.images, plain[i].images, `sample ${i} images`);
        assert.deepEqual(o.labels, plain[i].labels, `sample ${i} labels`);
      });
    } finally {
      await cleanup();
    }
  });
}

test('scratch regions are views of the kernels\' memory when they are available, plain arrays otherwise', () => {
  const scratch = new SampleScratch();
  scratch.prepare();
  if (warpBackend() === 'wasm') {
    assert.equal(scratch.decode!.buffer, scratch.warp!.buffer, 'one memory');
    assert.ok(scratch.warp!.byteOffset >= scratch.decode!.byteOffset + scratch.decode!.length + 16, 'warp region after decode region and its read slack');
  }
  scratch.decodedTooBig(10_000_000);
  scratch.prepare();
  assert.ok(scratch.decode!.length >= 10_000_000 && scratch.warp!.length >= 2 * 10_000_000);
  setWarpBackend('js');
  try {
    const plain = new SampleScratch();
    plain.prepare();
    assert.notEqual(plain.decode!.buffer, plain.warp!.buffer);
  } finally {
    setWarpBackend('auto');
  }
});
