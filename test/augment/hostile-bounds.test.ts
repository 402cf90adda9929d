// Issue 12 items 7 and 9: the rasteriser's cost is bounded by the canvas whatever the
// coordinates (asserted with its work counter, no timing), and every stream parameter
// combination of the issue either fails before allocating — naming the parameter — or runs
// within the memory budget (asserted with the budget computation, then by opening the stream).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseAnnotation } from '../../src/augment/annotation.ts';
import { parseStreamConfig } from '../../src/augment/config.ts';
import { rasterizeAnnotation, rasterWork } from '../../src/augment/pixels/rasterize.ts';
import { MemoryBudgetError, WORKER_OVERHEAD_BYTES, planStreamMemory, sampleBytes } from '../../src/augment/stream/memory-budget.ts';
import { ImageStream } from '../../src/augment/stream/stream.ts';
import { tempDir, writeFixture } from './stream-fixtures.ts';

const HOSTILE_SHAPES: Record<string, string> = {
  'ellipse 1e7 wide': '{"shapes":[{"type":"ellipse","geometry":{"x":-5e6,"y":0.2,"width":1e7,"height":0.5}}]}',
  'polygon corners at ±1e7': '{"shapes":[{"type":"polygon","geometry":{"points":[{"x":-1e7,"y":-1e7},{"x":1e7,"y":-1e7},{"x":1e7,"y":1e7},{"x":-1e7,"y":1e7}]}}]}',
  'rect 1e308': '{"shapes":[{"type":"rect","geometry":{"x":0.1,"y":0.1,"width":1e308,"height":1e308}}]}',
  'rect at 1e308': '{"shapes":[{"type":"rect","geometry":{"x":1e308,"y":-1e308,"width":1e308,"height":1e308}}]}',
  'point at 1e308': '{"shapes":[{"type":"point","geometry":{"x":1e308,"y":0.5}}]}',
};

describe('rasteriser cost is bounded by the canvas (item 7)', () => {
  for (const [name, text] of Object.entries(HOSTILE_SHAPES)) {
    test(`${name}: filled and with thickness 1, 2, 7, numbered — steps ≤ 40 × (width + height) × vertices`, { timeout: 60_000 }, () => {
      const annotation = parseAnnotation(text);
      for (const thickness of [-1, 1, 2, 7]) {
        rasterWork.steps = 0;
        const label = rasterizeAnnotation(annotation, 320, 240, { thickness, numbers: true });
        assert.equal(label.width, 320);
        // ≤ 72 polygon vertices (ellipses), each costing at most a few passes over rows + cols.
        assert.ok(rasterWork.steps <= 40 * (320 + 240) * 72, `${name}, thickness ${thickness}: ${rasterWork.steps} steps`);
      }
    });
  }

  test('the polygon at ±1e7 still fills the whole canvas (clipping keeps the geometry)', () => {
    const label = rasterizeAnnotation(parseAnnotation(HOSTILE_SHAPES['polygon corners at ±1e7']), 64, 48);
    assert.ok(label.data.every((v) => v === 1));
  });
});

describe('stream memory budget (item 9)', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let db: string;
  before(async () => {
    tmp = await tempDir();
    db = await writeFixture(path.join(tmp.dir, 'budget.picpac'), { count: 6, width: 64, height: 48, annotate: true });
  });
  after(() => tmp.cleanup());

  const sizes = { sizes: [{ width: 1024, height: 640 }] };
  const refused = (params: Record<string, unknown>, parameter: string, text: RegExp) => {
    assert.throws(() => planStreamMemory(parseStreamConfig(params), sizes, 2), (error: unknown) => {
      assert.ok(error instanceof MemoryBudgetError && error instanceof RangeError);
      assert.equal(error.parameter, parameter);
      assert.ok(error.neededBytes > error.budgetBytes);
      assert.match(error.message, text);
      return true;
    });
  };

  test('the issue\'s combinations are refused before allocating, naming the parameter', () => {
    refused({ onehot: 65535, annotate: 'json' }, 'onehot', /^onehot 65535: one sample needs 960\.1 GiB \(the largest stored image is 1024×640\), more than the stream's memory budget memory_bytes = 4\.0 GiB; lower onehot or raise memory_bytes$/);
    refused({ min_size: 16384 }, 'min_size', /^min_size 16384: one sample needs [\d.]+ GiB \(the largest stored image, 1024×640, becomes 26214×16384\)/);
    refused({ min_size: 65535 }, 'min_size', /^min_size 65535: one sample needs/);
    refused({ perturb: true, pert_min_scale: 100, pert_max_scale: 100 }, 'pert_max_scale', /becomes 102400×64000/);
    refused({ batch: 4096 }, 'batch', /^batch 4096: a batch of 4096 samples \(7\.5 MiB each\) needs/);
  });

  test('--threads 256 runs: lowered to fit (and to 4 per CPU), with a warning', () => {
    const plan = planStreamMemory(parseStreamConfig({ threads: 256 }), sizes, 2);
    assert.equal(plan.threads, 8);
    assert.match(plan.notes.join('\n'), /threads 256 lowered to 8 \(4 per CPU, 2 CPUs\)/);
    const tight = planStreamMemory(parseStreamConfig({ threads: 256, memory_bytes: 512 * 2 ** 20 }), sizes, 64);
    assert.ok(tight.threads >= 1 && tight.plannedBytes <= 512 * 2 ** 20, `${tight.threads} threads, ${tight.plannedBytes} bytes`);
    assert.match(tight.notes.join('\n'), /lowered to \d+: each worker may hold/);
  });

  test('bytes per sample follow the layout: float image, per-pixel one-hot label, uint8', () => {
    const c = parseStreamConfig({ annotate: 'json', onehot: 4 });
    assert.equal(sampleBytes(c, 64, 48).output, 64 * 48 * 3 * 4 + 64 * 48 * 4 * 4);
    assert.equal(sampleBytes(parseStreamConfig({ dtype: 'uint8', crop_width: 10, crop_height: 8 }), 64, 48).output, 10 * 8 * 3 + 4);
  });

  test('prefetch is bounded by bytes: samples in flight × sample bytes stay within the budget', () => {
    const budget = 512 * 2 ** 20;
    const plan = planStreamMemory(parseStreamConfig({ memory_bytes: budget, preload: 65535, resize_width: 1024, resize_height: 1024, batch: 4 }), sizes, 2);
    assert.ok(plan.maxInFlight * plan.sampleOutputBytes <= budget && plan.plannedBytes <= budget, `${plan.maxInFlight} × ${plan.sampleOutputBytes}`);
    assert.ok(plan.maxInFlight >= 4);
  });

  test('ImageStream.open refuses with the same message before starting anything; a fitting stream runs', { timeout: 60_000 }, async () => {
    await assert.rejects(ImageStream.open(db, { onehot: 65535, annotate: 'json', threads: 2 }), (error: unknown) => error instanceof MemoryBudgetError && error.parameter === 'onehot' && /the largest stored image is 64×48/.test(error.message));
    await assert.rejects(ImageStream.open(db, { min_size: 65535 }), (error: unknown) => error instanceof MemoryBudgetError && error.parameter === 'min_size');
    const stream = await ImageStream.open(db, { onehot: 16, annotate: 'json', batch: 2, loop: false });
    try {
      const batch = await stream.next();
      assert.deepEqual(batch!.labelShape, [2, 48, 64, 16]);
    } finally {
      await stream.close();
    }
  });
});
