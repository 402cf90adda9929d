// Backend choice, best first, whichever imports (tfjs-node-gpu, tfjs-node, wasm, cpu): here the
// native packages are absent (they cannot be installed offline), so auto picks wasm and records
// why the better ones were skipped; an explicit unavailable backend is an error naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeBackend, initBackend, tf } from '../../src/train/backend.ts';

test('auto picks the best importable backend and records the skipped ones', async (t) => {
  let nativePresent = true;
  try {
    await import(['@tensorflow', 'tfjs-node'].join('/'));
  } catch {
    nativePresent = false;
  }
  if (nativePresent) {
    t.skip('@tensorflow/tfjs-node is installed here: auto picks it');
    return;
  }
  const info = await initBackend();
  assert.equal(info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(info.package, '@tensorflow/tfjs-backend-wasm');
  assert.deepEqual(info.skipped.map((s) => s.split(':')[0]), ['tensorflow-gpu', 'tensorflow']);
  assert.match(info.skipped[1], /tfjs-node/);
  assert.match(describeBackend(info), /^backend wasm \(@tensorflow\/tfjs-backend-wasm 4\.\d+\.\d+, tfjs 4\.\d+\.\d+; registered Conv2DBackpropFilter, Conv2DBackpropInput, MaxPoolGrad; skipped tensorflow-gpu, tensorflow \(not importable\)\)$/);
  // Emscripten's rethrowing process handlers were removed (errors print normally).
  assert.equal(process.listeners('unhandledRejection').filter((l) => String(l).includes('throw reason')).length, 0);
});

test('an explicit backend is used, or refused with the reason', async () => {
  const cpu = await initBackend({ backend: 'cpu' });
  assert.equal(cpu.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  await assert.rejects(initBackend({ backend: 'tensorflow' }), /no TensorFlow\.js backend could be initialised \(tensorflow: .*tfjs-node/);
  await assert.rejects(initBackend({ backend: 'tpu' as 'cpu' }), /one of auto, tensorflow-gpu, tensorflow, wasm, cpu/);
  const wasm = await initBackend({ backend: 'wasm' });
  assert.equal(wasm.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
});
