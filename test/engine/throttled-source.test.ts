// ThrottledSource / DeviceClock: the device model charges seeks only for reads that do not
// continue the previous one, bytes at the sequential rate, and real time follows the model.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { DEVICE_MODELS, DeviceClock, ThrottledSource } from '../../src/engine/sources/throttled-source.ts';

const device = { name: 'test disk', sequentialBytesPerSecond: 10e6, seekSeconds: 0.01 };

describe('ThrottledSource', () => {
  test('returns the inner bytes and counts reads, bytes and seeks (sequential = continues the previous read)', async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const source = new ThrottledSource(new MemorySource(bytes), device, { minSleepMs: 1000 });
    assert.deepEqual(await source.read(0, 100), bytes.subarray(0, 100));
    assert.deepEqual(await source.read(100, 100), bytes.subarray(100, 200));
    assert.deepEqual(await source.read(500, 10), bytes.subarray(500, 510));
    assert.equal(source.counter.reads, 3);
    assert.equal(source.counter.bytesRead, 210);
    assert.equal(source.counter.seeks, 2, 'the first read and the jump to 500 seek; 100 continues 0..100');
    assert.ok(Math.abs(source.counter.modeledSeconds - (2 * 0.01 + 210 / 10e6)) < 1e-12);
    assert.equal(source.byteLength, 1000);
    assert.match(source.name, /on test disk/);
  });

  test('real time follows the model: 10 random reads of 8 ms seeks take ≥ 80 ms', async () => {
    const source = new ThrottledSource(new MemorySource(new Uint8Array(1 << 16)), { name: 'hdd', sequentialBytesPerSecond: 160e6, seekSeconds: 0.008 });
    const t0 = performance.now();
    for (let k = 0; k < 10; k++) await source.read((k * 7919) % 60000, 16);
    await source.settle();
    const elapsedMs = performance.now() - t0;
    assert.ok(elapsedMs >= 79, `elapsed ${elapsedMs} ms`);
    assert.ok(elapsedMs < 1000, `elapsed ${elapsedMs} ms`);
  });

  test('short transfers accumulate instead of being lost to timer resolution', async () => {
    const clock = new DeviceClock({ name: 'fast', sequentialBytesPerSecond: 1e6, seekSeconds: 0 }, { minSleepMs: 5 });
    const t0 = performance.now();
    for (let k = 0; k < 100; k++) await clock.charge(500, true); // 0.5 ms each → 50 ms
    await clock.settle();
    assert.ok(performance.now() - t0 >= 49);
  });

  test('DEVICE_MODELS state the HDD, SATA SSD and NVMe figures', () => {
    assert.deepEqual([DEVICE_MODELS.hdd.sequentialBytesPerSecond, DEVICE_MODELS.hdd.seekSeconds], [160e6, 8e-3]);
    assert.deepEqual([DEVICE_MODELS.sataSsd.sequentialBytesPerSecond, DEVICE_MODELS.sataSsd.seekSeconds], [550e6, 1e-4]);
    assert.equal(DEVICE_MODELS.nvme.sequentialBytesPerSecond, 3e9);
  });

  test('a bad device model is a TypeError with the sharp sentence', () => {
    assert.throws(() => new DeviceClock({ name: 'x', sequentialBytesPerSecond: 0, seekSeconds: 0 }), {
      name: 'TypeError',
      message: 'Expected a positive finite number for device.sequentialBytesPerSecond but received 0 of type number',
    });
    assert.throws(() => new DeviceClock({ name: 'x', sequentialBytesPerSecond: 1, seekSeconds: -1 }), TypeError);
    assert.throws(() => new ThrottledSource(null as never, device), TypeError);
  });
});
