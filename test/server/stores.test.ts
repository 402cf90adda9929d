// The viewer over every kind of store and state: a corrupt record is a 500 with a message and the
// server keeps serving; a file being written (and an append session on a finished file) shows
// new records after a refresh; PicPac 1.0 and LMDB stores.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { openStore } from '../../src/engine/open-store.ts';
import { LmdbWriter } from '../../src/engine/lmdb/lmdb-writer.ts';
import type { ViewerServer, ViewerServerOptions } from '../../src/server/server.ts';
import { writeFixture } from '../augment/stream-fixtures.ts';
import { bluePixels, getBytes, getJson, greyJpeg, record, repoRoot, startViewer, tempDir, writeBoxDb } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

async function withViewer(file: string, run: (viewer: ViewerServer) => Promise<void>, options: ViewerServerOptions = {}): Promise<void> {
  const viewer = await startViewer(file, { renderThreads: 1, ...options });
  try {
    await run(viewer);
  } finally {
    await viewer.close();
  }
}

describe('corrupt records', () => {
  test('undecodable image bytes: 500 naming the record, then the server keeps serving', async () => {
    const file = path.join(dir, 'bad-image.picpac');
    const writer = await PicpacWriter.create(file, { fsyncOnClose: false });
    for (let i = 0; i < 6; i++) {
      const image = await greyJpeg(120);
      if (i === 2) image.fill(0x5a, 30); // valid checksums (the writer computes them), garbage JPEG
      await writer.append(record(i, image));
    }
    await writer.close();
    await withViewer(file, async (viewer) => {
      const bad = await getJson(`${viewer.url}/api/image?id=2&annotate=json`);
      assert.equal(bad.status, 500);
      assert.match(bad.body.error, /record 2/);
      assert.match(bad.body.error, /image/);
      const thumbBad = await getJson(`${viewer.url}/api/stream?batch=6&shuffle=0`);
      assert.equal(thumbBad.status, 500);
      assert.match(thumbBad.body.error, /record 2/);
      const skipped = await getJson(`${viewer.url}/api/stream?batch=5&shuffle=0&on_error=skip`);
      assert.equal(skipped.status, 200);
      assert.equal(skipped.body.skipped, 1);
      const good = await getBytes(`${viewer.url}/api/image?id=3&annotate=json&format=png`);
      assert.equal(good.status, 200);
      assert.ok((await bluePixels(good.bytes)).count > 100);
      const overview = await getJson(`${viewer.url}/api/overview`);
      assert.equal(overview.status, 200);
      assert.equal(overview.body.recordCount, 6);
      const collage = await getBytes(`${viewer.url}/api/collage.jpg`);
      assert.equal(collage.status, 200, 'a bad record leaves a dark tile, not an error');
    });
    // The same on the HTTP thread (no render workers).
    await withViewer(file, async (viewer) => {
      assert.equal(viewer.pool, undefined);
      const bad = await getJson(`${viewer.url}/api/image?id=2&annotate=json`);
      assert.equal(bad.status, 500);
      assert.match(bad.body.error, /record 2/);
      assert.equal((await getBytes(`${viewer.url}/api/image?id=3`)).status, 200);
      assert.equal((await getBytes(`${viewer.url}/api/thumb?class=0&offset=0`)).status, 200);
    }, { renderThreads: 0 });
  });

  test('a damaged frame on disk (checksum mismatch): 500 with the reader\'s message, other records fine', async () => {
    const file = await writeBoxDb(path.join(dir, 'bad-crc.picpac'), 8);
    const store = await openStore(file);
    const meta = store.meta(5);
    await store.close();
    const handle = await open(file, 'r+');
    const at = meta.byteOffset + meta.byteLength - 20; // inside the JPEG bytes of record 5
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0] ^= 0xff;
    await handle.write(byte, 0, 1, at);
    await handle.close();
    await withViewer(file, async (viewer) => {
      for (const target of ['/api/image?id=5', '/api/record?id=5', '/api/file?id=5']) {
        const reply = await getJson(`${viewer.url}${target}`);
        assert.equal(reply.status, 500, target);
        assert.match(reply.body.error, /record 5/i, target);
        assert.match(reply.body.error, /checksum|crc/i, target);
      }
      assert.equal((await getBytes(`${viewer.url}/api/image?id=6`)).status, 200);
      const overview = await getJson(`${viewer.url}/api/overview`);
      assert.equal(overview.body.scanErrors.count, 1);
      assert.equal(overview.body.scanErrors.first[0].recordIndex, 5);
      const grid = await getBytes(`${viewer.url}/l?count=8&annotate=json`);
      assert.equal(grid.status, 200);
    });
  });
});

describe('render workers', () => {
  test('a render worker that dies is replaced; requests keep succeeding', async () => {
    const file = await writeBoxDb(path.join(dir, 'workers.picpac'), 6);
    await withViewer(file, async (viewer) => {
      const slots = (viewer.pool as unknown as { slots: { worker: { terminate(): Promise<number> }; alive: boolean }[] }).slots;
      assert.equal(slots.length, 2);
      await slots[0].worker.terminate();
      for (let i = 0; i < 6; i++) assert.equal((await getBytes(`${viewer.url}/api/image?id=${i}&annotate=json`)).status, 200);
      await slots[1].worker.terminate();
      const deadline = Date.now() + 10_000;
      while (!slots.every((s) => s.alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(slots.every((s) => s.alive), 'both replaced');
      assert.equal((await getBytes(`${viewer.url}/api/thumb?class=1&offset=0`)).status, 200);
      // Out of replacements: the workers stay dead and the HTTP thread renders instead.
      (viewer.pool as unknown as { respawns: number }).respawns = Number.MAX_SAFE_INTEGER;
      await Promise.all(slots.map((s) => s.worker.terminate()));
      while (viewer.pool!.hasWorkers) await new Promise((r) => setTimeout(r, 10));
      const inline = await getBytes(`${viewer.url}/api/image?id=2&annotate=json&format=png`);
      assert.equal(inline.status, 200);
      assert.ok((await bluePixels(inline.bytes)).count > 100);
      assert.equal((await getBytes(`${viewer.url}/api/thumb?class=2&offset=0`)).status, 200);
    }, { renderThreads: 2 });
  });
});

describe('files being written', () => {
  test('a file without a footer opens in recovery mode and shows new records after refresh', async () => {
    const file = path.join(dir, 'live.picpac');
    const writer = await PicpacWriter.create(file, { bufferBytes: 0, alignment: 16, fsyncOnClose: false });
    for (let i = 0; i < 5; i++) await writer.append(record(i, await greyJpeg(90 + i)));
    await writer.flush();
    await withViewer(file, async (viewer) => {
      assert.equal(viewer.live.recovered, true);
      const first = await getJson(`${viewer.url}/api/overview`);
      assert.equal(first.body.recordCount, 5);
      assert.equal(first.body.recovered, true);
      for (let i = 5; i < 9; i++) await writer.append(record(i, await greyJpeg(90 + i)));
      await writer.flush();
      // refreshMs -1: nothing moves until /api/refresh.
      assert.equal((await getJson(`${viewer.url}/api/image?id=7`)).status, 404);
      const refreshed = await getJson(`${viewer.url}/api/refresh`);
      assert.equal(refreshed.body.recordCount, 9);
      assert.equal(refreshed.body.generation, 1);
      assert.equal((await getBytes(`${viewer.url}/api/image?id=7&annotate=json`)).status, 200);
      const overview = await getJson(`${viewer.url}/api/overview`);
      assert.equal(overview.body.recordCount, 9);
      assert.equal(overview.body.SUMMARY.find((e: { key: string }) => e.key === 'TOTAL_IMAGES').value, 9);
      // An annotation replaced after the workers rendered the record: shown after the refresh.
      const before = await bluePixels((await getBytes(`${viewer.url}/api/image?id=1&annotate=json&format=png`)).bytes);
      assert.ok(Math.abs(before.minX - 40) <= 2, JSON.stringify(before));
      await writer.setAnnotation(1, JSON.stringify({ shapes: [{ type: 'rect', geometry: { x: 0.05, y: 0.1, width: 0.2, height: 0.2 } }] }));
      await writer.flush();
      await getJson(`${viewer.url}/api/refresh`);
      const after = await bluePixels((await getBytes(`${viewer.url}/api/image?id=1&annotate=json&format=png`)).bytes);
      assert.ok(Math.abs(after.minX - 8) <= 2 && after.maxX < 50, JSON.stringify(after));
      assert.match((await getJson(`${viewer.url}/api/record?id=1`)).body.annotationText, /0\.05/);
      await writer.close();
      assert.equal((await getJson(`${viewer.url}/api/refresh`)).body.recordCount, 9);
    }, { refreshMs: -1, renderThreads: 2 });
  });

  test('an append session on a finished file is followed automatically (refreshMs 0)', async () => {
    const file = await writeBoxDb(path.join(dir, 'append.picpac'), 4);
    await withViewer(file, async (viewer) => {
      assert.equal(viewer.live.recovered, false);
      assert.equal((await getJson(`${viewer.url}/api/sample?count=100`)).body.samples.length, 4);
      const appender = await PicpacWriter.append(file, { bufferBytes: 0 });
      for (let i = 4; i < 7; i++) await appender.append(record(i, await greyJpeg(150)));
      const during = await getJson(`${viewer.url}/api/sample?count=100`);
      assert.equal(during.body.samples.length, 7);
      assert.equal((await getBytes(`${viewer.url}/api/image?id=6`)).status, 200);
      await appender.close();
      const record6 = await getJson(`${viewer.url}/api/record?id=6`);
      assert.equal(record6.body.id, 506);
      assert.equal((await getJson(`${viewer.url}/api/overview`)).body.recordCount, 7);
    }, { refreshMs: 0 });
  });
});

describe('parameters the data cannot satisfy', () => {
  test('mixed image sizes in one batch: 422; round_div beyond an image: 400; both with the message', async () => {
    const file = await writeFixture(path.join(dir, 'mixed.picpac'), { count: 9, varySize: true, annotate: true });
    await withViewer(file, async (viewer) => {
      const mixed = await getJson(`${viewer.url}/api/stream?batch=4&max_size=64&shuffle=0`);
      assert.equal(mixed.status, 422);
      assert.match(mixed.body.error, /must have the same shape/);
      const round = await getJson(`${viewer.url}/api/stream?batch=2&max_size=64&round_div=500`);
      assert.equal(round.status, 400);
      assert.match(round.body.error, /Expected .* for round_div/);
      const image = await getJson(`${viewer.url}/api/image?id=1&round_div=500`);
      assert.equal(image.status, 400);
      assert.match(image.body.error, /round_div/);
      assert.equal((await getJson(`${viewer.url}/api/stream?batch=4&max_size=64&crop_width=48&crop_height=32`)).status, 200);
    });
  });
});

describe('label kinds', () => {
  test('float labels: regression with a histogram, one thumbnail class; no annotations', async () => {
    const file = path.join(dir, 'regression.picpac');
    const writer = await PicpacWriter.create(file, { fsyncOnClose: false });
    for (let i = 0; i < 10; i++) await writer.append({ label: i * 0.25, fields: [{ kind: 'image', bytes: await greyJpeg(100, 40, 60) }] });
    await writer.close();
    await withViewer(file, async (viewer) => {
      const { body } = await getJson(`${viewer.url}/api/overview`);
      assert.equal(body.task, 'regression');
      assert.equal(body.labels.kind, 'float');
      assert.equal(body.labels.histogram.length, 20);
      assert.equal(body.labels.histogram.reduce((a: number, b: { count: number }) => a + b.count, 0), 10);
      assert.deepEqual(body.CLASSES, [0]);
      assert.deepEqual(body.SAMPLE_SIZES, [10]);
      const summary = Object.fromEntries(body.SUMMARY.map((e: { key: string; value: unknown }) => [e.key, e.value]));
      assert.equal(summary.GROUP_BY, 'int(label)');
      assert.equal(summary.LABEL1_FLOAT_CNT, 7); // 0, 1 and 2 are integers
      assert.equal(summary.TYPICAL_LAYOUT, 'portrait');
      assert.equal(summary.SHAPE_CNT, 0);
      assert.equal((await getBytes(`${viewer.url}/api/thumb?class=0&offset=9`)).status, 200);
    });
  });

  test('label-image fields: segmentation; annotate=image renders the mask', async () => {
    const file = await writeFixture(path.join(dir, 'masks.picpac'), { count: 4, width: 32, height: 24, labelImage: true, label: () => 0 });
    await withViewer(file, async (viewer) => {
      const { body } = await getJson(`${viewer.url}/api/overview`);
      assert.equal(body.task, 'segmentation');
      assert.equal(body.annotatedCount, 0);
      assert.equal(body.fieldTypes['label/png'], 4);
      const mask = await getBytes(`${viewer.url}/api/image?id=1&annotate=image&anno_palette=&norm=1&format=png`);
      assert.equal(mask.status, 200);
      const { data } = await sharp(mask.bytes).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      assert.equal(data[5 * 32 + 3], 0, 'left half: label 1, the minimum');
      assert.equal(data[5 * 32 + 28], 255, 'right half: label 2, the maximum');
      // The viewer's default palette colours label ids (1 → RGB 31,119,180; 2 → 174,199,232).
      const coloured = await getBytes(`${viewer.url}/api/image?id=1&annotate=image&format=png`);
      const rgb = (await sharp(coloured.bytes).raw().toBuffer({ resolveWithObject: true })).data;
      assert.deepEqual([...rgb.subarray((5 * 32 + 3) * 3, (5 * 32 + 3) * 3 + 3)], [31, 119, 180]);
      assert.deepEqual([...rgb.subarray((5 * 32 + 28) * 3, (5 * 32 + 28) * 3 + 3)], [174, 199, 232]);
    });
  });

  test('integer labels without annotations: classification', async () => {
    const file = path.join(dir, 'classes.picpac');
    const writer = await PicpacWriter.create(file, { fsyncOnClose: false });
    for (let i = 0; i < 6; i++) await writer.append({ label: i % 2, fields: [{ kind: 'image', bytes: await greyJpeg(100, 30, 30) }] });
    await writer.close();
    await withViewer(file, async (viewer) => {
      const { body } = await getJson(`${viewer.url}/api/overview`);
      assert.equal(body.task, 'classification');
      assert.deepEqual(body.LABEL1_CNT, [[0, 3], [1, 3]]);
      assert.deepEqual(body.SAMPLE_SIZES, [3, 3]);
    });
  });
});

describe('empty database', () => {
  test('every endpoint answers sensibly with no records', async () => {
    const file = path.join(dir, 'empty.picpac');
    await (await PicpacWriter.create(file, { fsyncOnClose: false })).close();
    await withViewer(file, async (viewer) => {
      const overview = await getJson(`${viewer.url}/api/overview`);
      assert.equal(overview.status, 200);
      assert.equal(overview.body.recordCount, 0);
      assert.equal(overview.body.task, 'none');
      assert.deepEqual((await getJson(`${viewer.url}/api/sample`)).body.samples, []);
      const image = await getJson(`${viewer.url}/api/image`);
      assert.equal(image.status, 404);
      assert.match(image.body.error, /no records/);
      assert.equal((await getJson(`${viewer.url}/api/image?id=0`)).status, 404);
      assert.equal((await getJson(`${viewer.url}/api/thumb`)).status, 404);
      assert.equal((await getBytes(`${viewer.url}/api/collage.jpg`)).status, 200);
      assert.equal((await getJson(`${viewer.url}/api/stream`)).status, 404);
      assert.equal((await getBytes(`${viewer.url}/l?count=5`)).status, 200);
      assert.equal((await getBytes(`${viewer.url}/`)).status, 200);
    });
  });
});

describe('other formats', () => {
  test('PicPac 1.0 (test/vectors/v1/v1-anno.db): overview totals, annotation overlay', async () => {
    const file = path.join(repoRoot, 'test/vectors/v1/v1-anno.db');
    await withViewer(file, async (viewer) => {
      const overview = await getJson(`${viewer.url}/api/overview`);
      assert.equal(overview.status, 200);
      assert.equal(overview.body.format, 'picpac-1');
      assert.equal(overview.body.recordCount, 40);
      assert.equal(overview.body.task, 'segmentation');
      assert.ok(overview.body.SHAPE_CNT.length > 0);
      const rec = await getJson(`${viewer.url}/api/record?id=0`);
      assert.equal(rec.status, 200);
      assert.equal(rec.body.label, 1);
      assert.ok(rec.body.annotationText);
      const image = await getBytes(`${viewer.url}/api/image?id=0&annotate=json`);
      assert.equal(image.status, 200);
      assert.equal(image.type, 'image/jpeg');
      const plain = await getBytes(`${viewer.url}/api/image?id=0&format=png`);
      assert.notDeepEqual(image.bytes, plain.bytes);
      assert.equal((await getBytes(`${viewer.url}/api/thumb?class=0&offset=0`)).status, 200);
      assert.equal((await getJson(`${viewer.url}/api/refresh`)).body.refreshable, false);
    });
  });

  test('PicPac 1.0 legacy files from ../shared', async (t) => {
    const legacy = path.resolve(repoRoot, '../shared/vectors/legacy-v1/v1-aligned.db');
    if (!existsSync(legacy)) {
      t.skip('../shared/vectors/legacy-v1 absent');
      return;
    }
    await withViewer(legacy, async (viewer) => {
      const overview = await getJson(`${viewer.url}/api/overview`);
      assert.equal(overview.status, 200);
      assert.ok(overview.body.recordCount > 0);
      assert.equal((await getBytes(`${viewer.url}/api/image?id=0`)).status, 200);
    });
  });

  test('LMDB store', async () => {
    const lmdbDir = path.join(dir, 'boxes.lmdb');
    const writer = await LmdbWriter.create(lmdbDir, { mode: 'encoded', noSync: true });
    for (let i = 0; i < 6; i++) await writer.append(record(i, await greyJpeg(110)));
    await writer.close();
    const viewer = await startViewer(lmdbDir);
    try {
      const overview = await getJson(`${viewer.url}/api/overview`);
      assert.equal(overview.body.recordCount, 6);
      assert.match(overview.body.format, /^lmdb/);
      const image = await getBytes(`${viewer.url}/api/image?id=3&annotate=json&format=png`);
      assert.equal(image.status, 200);
      assert.ok((await bluePixels(image.bytes)).count > 100);
      assert.equal((await getJson(`${viewer.url}/api/image?id=6`)).status, 404);
    } finally {
      await viewer.close();
    }
  });
});
