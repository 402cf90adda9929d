// Prediction: loadModel(dir) → model.predict(images) on any image size (the backend, input
// size, channel order and mean hidden), and `picpac predict` writing heat maps, overlays and
// boxes.json for image files and for the held-out fold of a database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { runCli } from '../../src/cli/main.ts';
import { databaseImages, loadModel, overlayPng } from '../../src/train/predict.ts';
import { trainFcn } from '../../src/train/trainer.ts';
import { makeTinyDb, tempDir } from './helpers.ts';

let tmp: { dir: string; cleanup: () => Promise<void> };
let db: string;
let ws: string;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } } };
}

describe('predict', () => {
  before(async () => {
    tmp = await tempDir();
    db = await makeTinyDb(tmp.dir);
    ws = path.join(tmp.dir, 'ws');
    await trainFcn({ template: 'fcn-tiny', db, workspace: ws, size: 32, batch: 2, steps: 4, snapshotEvery: 4, backend: 'wasm' });
  });
  after(async () => tmp.cleanup());

  test('loadModel → predict: heat maps at the input size, in [0, 1], boxes inside the image', async () => {
    const model = await loadModel(path.join(ws, 'model'), { threshold: 0.2 });
    try {
      assert.equal(model.meta.template, 'fcn-tiny');
      assert.deepEqual(model.meta.inputSize, [32, 32]);
      assert.equal(model.backend.name, 'wasm');
      const rgb = { data: new Uint8Array(48 * 40 * 3).fill(200), width: 48, height: 40, channels: 3 as const };
      const gray = { data: new Uint8Array(32 * 32).fill(50), width: 32, height: 32, channels: 1 as const };
      const [a, b] = await model.predict([rgb, gray]);
      assert.deepEqual([a.width, a.height, a.heatMap.length], [48, 40, 48 * 40]);
      assert.deepEqual([b.width, b.height, b.heatMap.length], [32, 32, 32 * 32]);
      for (const p of [...a.heatMap, ...b.heatMap]) assert.ok(p >= 0 && p <= 1);
      for (const box of [...a.boxes, ...b.boxes]) assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= a.width && box.score > 0 && box.score <= 1);
      // Same image twice → same output (no state between calls).
      const [again] = await model.predict([rgb]);
      assert.deepEqual(again.heatMap, a.heatMap);
      const png = await overlayPng(rgb, a);
      assert.deepEqual(await sharp(png).metadata().then((m) => [m.width, m.height, m.format]), [48, 40, 'png']);
      await assert.rejects(model.predict([{ data: new Uint8Array(5), width: 2, height: 2, channels: 3 }]), /width × height × channels/);
    } finally {
      model.dispose();
    }
  });

  test('databaseImages: the held-out fold is the validation fold of training', async () => {
    const held = [];
    for await (const s of databaseImages(db, { split: 5, fold: 0 })) held.push(s);
    assert.equal(held.length, 4); // 20 records, 5 folds
    const state = JSON.parse(await readFile(path.join(ws, 'snapshots', '4', 'state.json'), 'utf8'));
    assert.equal(state.validation.images, held.length);
    const all = [];
    for await (const s of databaseImages(db, { limit: 3 })) all.push(s.name);
    assert.deepEqual(all, ['plates-00000', 'plates-00001', 'plates-00002']);
  });

  test('picpac predict on image files and a database writes heat maps, overlays and boxes.json', async () => {
    const image = path.join(tmp.dir, 'images', '00001.jpg');
    const out = path.join(tmp.dir, 'pred');
    const c = capture();
    const code = await runCli(['predict', ws, image, db, '--split', '5', '--fold', '0', '--out', out, '--threshold', '0.3'], c.io);
    assert.equal(code, 0, c.err.join(''));
    assert.match(c.out.join(''), /^5 images, \d+ boxes → .*boxes\.json/);
    const files = await readdir(out);
    assert.ok(files.includes('00001.heat.png') && files.includes('00001.overlay.png') && files.includes('boxes.json'));
    assert.equal(files.filter((f) => f.endsWith('.overlay.png')).length, 5);
    const boxes = JSON.parse(await readFile(path.join(out, 'boxes.json'), 'utf8'));
    assert.equal(boxes.length, 5);
    assert.deepEqual(Object.keys(boxes[0]).sort(), ['boxes', 'heatMap', 'height', 'name', 'overlay', 'source', 'width']);
    assert.equal(boxes[0].source, image);
    const heat = await sharp(path.join(out, '00001.heat.png')).metadata();
    assert.deepEqual([heat.width, heat.height, heat.channels], [32, 32, 1]);
    const bad = capture();
    assert.equal(await runCli(['predict', tmp.dir, image], bad.io), 2);
    assert.match(bad.err.join(''), /no model\.json/);
    assert.equal(await runCli(['predict', ws, image, '--threshold', '2'], capture().io), 2);
  });
});
