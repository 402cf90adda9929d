// batchToTensors gives tensors that own their data, on both backends the trainer uses: the
// trainer releases each batch right after (ImageStream.release), and the stream then writes later
// samples into that memory, so a tensor that kept a view of it would change under the model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchToTensors } from '../../src/train/batch-tensors.ts';
import { initBackend, tf } from '../../src/train/backend.ts';
import type { Batch } from '../../src/augment/stream/stream.ts';

function fakeBatch(): Batch {
  const [B, H, W] = [2, 3, 4];
  const images = Float32Array.from({ length: B * H * W * 3 }, (_, i) => i - 20);
  const labels = Float32Array.from({ length: B * H * W }, (_, i) => i % 3);
  return {
    images, imageShape: [B, H, W, 3], labels, labelShape: [B, H, W, 1], count: B, padded: 0,
    recordIndices: new Int32Array(B), sourceIndices: new Uint8Array(B), ids: new Float64Array(B), position: { epoch: 0, offset: 0 },
  };
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`${backend}: the tensors do not change when the batch's memory is overwritten`, async () => {
    await initBackend({ backend });
    const batch = fakeBatch();
    const original = fakeBatch();
    for (const loss of ['sigmoid', 'softmax'] as const) {
      const t = batchToTensors(batch, { inputScale: 0.5, loss });
      const x = Array.from(await t.x.data());
      const y = Array.from(await t.y!.data());
      assert.deepEqual(x.slice(0, 3), [-10, -9.5, -9]);
      batch.images.fill(1234);
      batch.labels.fill(0);
      assert.deepEqual(Array.from(await t.x.data()), x);
      assert.deepEqual(Array.from(await t.y!.data()), y);
      assert.ok(y.some((v) => v > 0), 'foreground present before the overwrite');
      tf.dispose([t.x, t.y!]);
      batch.images.set(original.images);
      batch.labels.set(original.labels);
    }
  });
}
