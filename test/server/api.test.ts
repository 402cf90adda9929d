// The viewer's JSON API and pages over real HTTP on 127.0.0.1 (ephemeral port): every endpoint,
// the explorer's names and keys, validation 400s with messages, ids out of range, path
// traversal, method and host checks, and the size bounds.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { ViewerServer } from '../../src/server/server.ts';
import { openStore } from '../../src/engine/open-store.ts';
import { BOX, HEIGHT, WIDTH, bluePixels, getBytes, getJson, rawRequest, startViewer, tempDir, writeBoxDb } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
let viewer: ViewerServer;
let base: string;
let file: string;

before(async () => {
  ({ dir, cleanup } = await tempDir());
  file = await writeBoxDb(path.join(dir, 'boxes.picpac'), 12);
  viewer = await startViewer(file);
  base = viewer.url;
});
after(async () => {
  await viewer.close();
  await cleanup();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('endpoints', () => {
  test('listens on 127.0.0.1 by default', () => {
    assert.equal(viewer.host, '127.0.0.1');
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('/api/overview: explorer SUMMARY keys, totals, labels, shapes, sizes', async () => {
    const { status, body } = await getJson(`${base}/api/overview`);
    assert.equal(status, 200);
    const summary = Object.fromEntries(body.SUMMARY.map((e: { key: string; value: unknown }) => [e.key, e.value]));
    for (const key of ['TOTAL_IMAGES', 'TOTAL_MB', 'GROUP_CNT', 'GROUP_BY', 'ALL_SCANNED', 'SCANNED_IMAGES', 'SCAN_RATIO', 'MEAN_SCALE', 'MEAN_HWR', 'TYPICAL_LAYOUT', 'SHAPE_CNT', 'LABEL1_CNT', 'TASK']) {
      assert.ok(key in summary, key);
    }
    assert.equal(summary.TOTAL_IMAGES, 12);
    assert.equal(summary.TASK, 'segmentation');
    assert.equal(summary.ALL_SCANNED, true);
    assert.equal(summary.SCANNED_IMAGES, 12);
    assert.equal(summary.SHAPE_CNT, 12);
    assert.equal(summary.SHAPE_TYPE, 'rect');
    assert.equal(summary.LABEL1_CNT, 3);
    assert.equal(summary.MEAN_SCALE, Math.round(Math.sqrt(WIDTH * HEIGHT) * 10) / 10);
    assert.equal(summary.TYPICAL_LAYOUT, 'landscape');
    assert.deepEqual(body.LABEL1_CNT, [[0, 4], [1, 4], [2, 4]]);
    assert.deepEqual(body.SHAPE_CNT, [['rect', 12]]);
    assert.equal(body.recordCount, 12);
    assert.equal(body.annotatedCount, 12);
    assert.equal(body.fileByteLength, (await readFile(file)).length);
    assert.deepEqual(body.labels.kind, 'integer');
    assert.deepEqual(body.sizes.common, [{ size: `${WIDTH}x${HEIGHT}`, count: 12 }]);
    assert.deepEqual(body.CLASSES, [0, 1, 2]);
    assert.deepEqual(body.SAMPLE_SIZES, [4, 4, 4]);
  });

  test('/api/sample: count distinct ids in range, seeded', async () => {
    const a = await getJson(`${base}/api/sample?count=5&seed=7`);
    const b = await getJson(`${base}/api/sample?count=5&seed=7`);
    assert.equal(a.status, 200);
    assert.equal(a.body.samples.length, 5);
    assert.equal(new Set(a.body.samples).size, 5);
    assert.ok(a.body.samples.every((i: number) => Number.isInteger(i) && i >= 0 && i < 12));
    assert.deepEqual(a.body.samples, b.body.samples);
    const all = await getJson(`${base}/api/sample?count=1000`);
    assert.deepEqual([...all.body.samples].sort((x: number, y: number) => x - y), Array.from({ length: 12 }, (_, i) => i));
    const dflt = await getJson(`${base}/api/sample`);
    assert.equal(dflt.body.samples.length, 12); // default 20, capped by the record count
  });

  test('/api/record: fields, labels, annotation JSON', async () => {
    const { status, body } = await getJson(`${base}/api/record?id=4`);
    assert.equal(status, 200);
    assert.equal(body.recordIndex, 4);
    assert.equal(body.id, 504);
    assert.equal(body.label, 1);
    assert.equal(body.width, WIDTH);
    assert.equal(body.fields.length, 1);
    assert.equal(body.fields[0].type, 'image/jpeg');
    assert.equal(body.fields[0].url, '/api/file?id=4&field=0');
    assert.deepEqual(JSON.parse(body.annotationText), { shapes: [{ type: 'rect', geometry: BOX }] });
    assert.equal(body.annotation.shapes[0].type, 'rect');
    assert.equal(body.annotationError, null);
  });

  test('/api/file: field bytes exactly as stored, with their type', async () => {
    const store = await openStore(file);
    const stored = await store.get(3);
    await store.close();
    const reply = await getBytes(`${base}/api/file?id=3`);
    assert.equal(reply.status, 200);
    assert.equal(reply.type, 'image/jpeg');
    assert.equal(sha(reply.bytes), sha(stored.fields[0].bytes));
    assert.equal(reply.headers.get('x-content-type-options'), 'nosniff');
    const missing = await getJson(`${base}/api/file?id=3&field=1`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /record 3 has 1 field\(s\); field 1 does not exist/);
  });

  test('/api/image: the box is drawn by the server where the annotation says', async () => {
    const reply = await getBytes(`${base}/api/image?id=2&annotate=json&format=png`);
    assert.equal(reply.status, 200);
    assert.equal(reply.type, 'image/png');
    assert.equal(reply.headers.get('x-picpac-size'), `${WIDTH}x${HEIGHT}`);
    const blue = await bluePixels(reply.bytes);
    assert.ok(blue.count > 300, `${blue.count} box pixels`);
    assert.ok(Math.abs(blue.minX - BOX.x * WIDTH) <= 2 && Math.abs(blue.maxX - (BOX.x + BOX.width) * WIDTH) <= 2, JSON.stringify(blue));
    assert.ok(Math.abs(blue.minY - BOX.y * HEIGHT) <= 2 && Math.abs(blue.maxY - (BOX.y + BOX.height) * HEIGHT) <= 2, JSON.stringify(blue));
    const plain = await getBytes(`${base}/api/image?id=2&format=png`);
    assert.equal((await bluePixels(plain.bytes)).count, 0, 'no annotate, no box');
    const jpeg = await getBytes(`${base}/api/image?id=2&annotate=json`);
    assert.equal(jpeg.type, 'image/jpeg');
    assert.ok((await bluePixels(jpeg.bytes)).count > 200);
  });

  test('/api/image: deterministic per URL; perturbation parameters change the image', async () => {
    const url = `${base}/api/image?id=5&annotate=json&perturb=1&pert_angle=30`;
    const a = await getBytes(url);
    const b = await getBytes(url);
    assert.equal(sha(a.bytes), sha(b.bytes));
    const c = await getBytes(`${base}/api/image?id=5&annotate=json&perturb=1&pert_angle=30&seed=9`);
    const off = await getBytes(`${base}/api/image?id=5&annotate=json`);
    assert.notEqual(sha(a.bytes), sha(c.bytes));
    assert.notEqual(sha(a.bytes), sha(off.bytes));
    const drawn = JSON.parse(a.headers.get('x-picpac-perturbation')!);
    assert.ok(Math.abs(drawn.angle) <= 30);
    assert.deepEqual(JSON.parse(off.headers.get('x-picpac-perturbation')!).angle, 0);
  });

  test('/api/image: label output, norm, max_size, random id', async () => {
    const mask = await getBytes(`${base}/api/image?id=1&annotate=json&anno_copy=0&anno_palette=&anno_thickness=-1&norm=1&format=png`);
    const { data, info } = await sharp(mask.bytes).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 1);
    assert.equal(data[(60 * WIDTH + 80)], 255, 'inside the filled box');
    assert.equal(data[(5 * WIDTH + 5)], 0, 'outside');
    const small = await getBytes(`${base}/api/image?id=1&max_size=40`);
    assert.equal(small.headers.get('x-picpac-size'), '40x30');
    const random = await getBytes(`${base}/api/image`);
    assert.equal(random.status, 200);
    assert.ok(Number(random.headers.get('x-picpac-record')) < 12);
    const image = await getBytes(`${base}/api/image?id=1&annotate=json&output=image&format=png`);
    assert.equal((await bluePixels(image.bytes)).count, 0, 'output=image skips the overlay');
  });

  test('/api/thumb and /api/collage.jpg: cached JPEGs; thumb out of range 404', async () => {
    const thumb = await getBytes(`${base}/api/thumb?class=2&offset=1`);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.type, 'image/jpeg');
    const meta = await sharp(thumb.bytes).metadata();
    assert.ok(Math.max(meta.width!, meta.height!) <= 200);
    const recordIndex = Number(thumb.headers.get('x-picpac-record'));
    assert.equal(recordIndex % 3, 2, 'class 2 = label 2');
    const hitsBefore = viewer.thumbs.lru.hits;
    const again = await getBytes(`${base}/api/thumb?class=2&offset=1`);
    assert.equal(sha(again.bytes), sha(thumb.bytes));
    assert.equal(viewer.thumbs.lru.hits, hitsBefore + 1, 'second request served from the cache');
    const out = await getJson(`${base}/api/thumb?class=2&offset=4`);
    assert.equal(out.status, 404);
    assert.match(out.body.error, /class 2 has 4 sampled thumbnail\(s\); offset 4 is out of range/);
    assert.equal((await getJson(`${base}/api/thumb?class=3`)).status, 404);
    const collage = await getBytes(`${base}/api/collage.jpg`);
    assert.equal(collage.status, 200);
    const cm = await sharp(collage.bytes).metadata();
    assert.deepEqual([cm.width, cm.height, cm.format], [640, 640, 'jpeg']);
  });

  test('/api/stream: one batch, image and label per sample', async () => {
    const { status, body } = await getJson(`${base}/api/stream?batch=4&annotate=json&resize_width=64&resize_height=48`);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.count, 4);
    assert.deepEqual(body.imageShape, [4, 48, 64, 3]);
    assert.deepEqual(body.labelShape, [4, 48, 64, 1]);
    assert.equal(body.samples.length, 4);
    for (const s of body.samples) {
      assert.match(s.image, /^data:image\/png;base64,/);
      const label = Buffer.from(s.labelImage.split(',')[1], 'base64');
      const { data } = await sharp(label).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      assert.equal(data[24 * 64 + 32], 255, 'box centre is label 1, stretched');
      assert.equal(data[0], 0);
    }
    const fold = await getJson(`${base}/api/stream?batch=2&split=4&split_fold=-1&split_keys=1,2&split_keys=3&max_size=32&crop_width=32&crop_height=24`);
    assert.equal(fold.status, 200, JSON.stringify(fold.body));
    assert.equal(fold.body.size, 9, 'chunks 1, 2 and 3 of 4 over 12 records');
    const scalar = await getJson(`${base}/api/stream?batch=3&onehot=3`);
    assert.equal(scalar.status, 200);
    assert.deepEqual(scalar.body.imageShape, [3, 256, 256, 3], 'default size bound');
    assert.equal(scalar.body.samples[0].labelValues.length, 3);
    const next = await getJson(`${base}/api/stream?batch=3&onehot=3&resume_offset=${scalar.body.position.offset}`);
    assert.notDeepEqual(next.body.samples.map((s: { recordIndex: number }) => s.recordIndex), scalar.body.samples.map((s: { recordIndex: number }) => s.recordIndex));
  });

  test('pages: overview, grid with count images, record, stream, static', async () => {
    for (const p of ['/', '/record?id=3', '/stream']) {
      const reply = await getBytes(`${base}${p}`);
      assert.equal(reply.status, 200, p);
      assert.match(reply.type!, /text\/html/);
      assert.match(reply.headers.get('content-security-policy')!, /script-src 'self'/);
    }
    const grid = await getBytes(`${base}/l?count=7&annotate=json&perturb=1&pert_angle=20`);
    assert.equal(grid.status, 200);
    const html = grid.bytes.toString();
    const images = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1].replaceAll('&amp;', '&'));
    assert.equal(images.length, 7);
    for (const src of images) assert.match(src, /^\/api\/image\?id=\d+&count=7&annotate=json&perturb=1&pert_angle=20&max_size=300$|^\/api\/image\?id=\d+&annotate=json&perturb=1&pert_angle=20&max_size=300$/);
    const first = await getBytes(`${base}${images[0]}`);
    assert.equal(first.status, 200);
    const css = await getBytes(`${base}/static/style.css`);
    assert.equal(css.type, 'text/css; charset=utf-8');
    assert.equal((await getBytes(`${base}/hello`)).bytes.toString(), 'Hello world!');
  });

  test('the 2016 server\'s /image and /file still work', async () => {
    const image = await getBytes(`${base}/image?id=2&annotate=json&format=png`);
    assert.equal(image.status, 200);
    assert.ok((await bluePixels(image.bytes)).count > 300);
    assert.equal((await getBytes(`${base}/file?id=2`)).type, 'image/jpeg');
    const bad = await getJson(`${base}/image?id=99`);
    assert.equal(bad.status, 404);
    assert.match(bad.body.error, /record 99 not found/);
  });

  test('/api/params and /api/refresh', async () => {
    const params = await getJson(`${base}/api/params`);
    assert.equal(params.body.viewerDefaults.anno_copy, '1');
    assert.ok(params.body.params.some((p: { name: string }) => p.name === 'pert_angle'));
    const refresh = await getJson(`${base}/api/refresh`);
    assert.deepEqual(refresh.body, { recordCount: 12, generation: 0, refreshable: true });
  });
});

describe('validation', () => {
  const bad = async (target: string, status: number, message: RegExp) => {
    const reply = await getJson(`${base}${target}`);
    assert.equal(reply.status, status, `${target}: ${JSON.stringify(reply.body)}`);
    assert.match(reply.body.error, message, target);
  };

  test('unknown parameters: 400 naming the closest valid name', async () => {
    await bad('/api/image?id=1&pert_angel=5', 400, /^Unknown parameter "pert_angel"; did you mean "pert_angle"\?$/);
    await bad('/api/image?id=1&fromat=png', 400, /did you mean "format"\?/);
    await bad('/api/sample?cont=5', 400, /^Unknown parameter "cont"; did you mean "count"\?$/);
    await bad('/api/sample?pert_angle=5', 400, /Unknown parameter "pert_angle"/);
    await bad('/api/thumb?klass=1', 400, /did you mean "class"\?/);
    await bad('/api/overview?x=1', 400, /^Unknown parameter "x"$/);
    await bad('/api/image?id=1&batch_size=4', 400, /did you mean "batch"\?/);
    const page = await getBytes(`${base}/l?count=3&anotate=json`);
    assert.equal(page.status, 400);
    assert.match(page.bytes.toString(), /did you mean &quot;annotate&quot;/);
  });

  test('bad values: 400 with the constraint', async () => {
    await bad('/api/sample?count=0', 400, /count must be an integer in 1\.\.1000, got "0"/);
    await bad('/api/sample?count=5000', 400, /1\.\.1000/);
    await bad('/api/image?id=-1', 400, /id must be an integer/);
    await bad('/api/image?id=1.5', 400, /id must be an integer/);
    await bad('/api/image?id=abc', 400, /id must be an integer/);
    await bad('/api/image?id=1&format=gif', 400, /format must be one of jpeg, png/);
    await bad('/api/image?id=1&quality=0', 400, /quality must be an integer in 1\.\.100/);
    await bad('/api/image?id=1&norm=maybe', 400, /norm must be 0, 1, true or false/);
    await bad('/api/image?id=1&perturb=2', 400, /^Expected boolean for perturb but received "2"/);
    await bad('/api/image?id=1&annotate=xml', 400, /Expected one of "", "json", "image", "auto" for annotate/);
    await bad('/api/image?id=1&pert_min_scale=2&pert_max_scale=1.5', 400, /pert_min_scale/);
    await bad('/api/image?id=1&crop_width=10', 400, /crop_height/);
    const page = await getBytes(`${base}/l?count=201`);
    assert.equal(page.status, 400);
    assert.match(page.bytes.toString(), /count must be an integer in 1\.\.200/);
    await bad('/api/record', 400, /id is required/);
  });

  test('sizes and counts are capped by the viewer', async () => {
    await bad('/api/image?id=1&max_size=5000', 400, /Expected integer between -1 and 4096 \(viewer limit\) for max_size but received 5000/);
    await bad('/api/image?id=1&resize_width=4096&resize_height=4096&perturb=1&pert_max_scale=4&pert_min_scale=4', 400, /viewer renders at most/);
    await bad('/api/image?id=1&perturb=1&pert_max_scale=10', 400, /pert_max_scale/);
    await bad('/api/image?id=1&min_size=4096', 400, /would be \d+x4096 pixels; the viewer renders at most/);
    await bad('/api/image?id=1&anno_thickness=500', 400, /anno_thickness/);
    await bad('/api/stream?batch=65', 400, /batch/);
    await bad('/api/stream?batch=64&resize_width=2048&resize_height=2048', 400, /exceeds the viewer's limit/);
    await bad('/api/stream?min_size=100', 400, /needs a size bound/);
  });

  test('mixin (another file) is refused', async () => {
    await bad('/api/image?id=1&mixin=/etc/passwd', 400, /parameter "mixin" is not accepted/);
    await bad('/api/stream?mixin=../x.picpac', 400, /parameter "mixin" is not accepted/);
    const page = await getBytes(`${base}/l?mixin=/etc/hosts`);
    assert.equal(page.status, 400);
    assert.match(page.bytes.toString(), /not accepted/);
  });

  test('ids out of range: 404 with the valid range', async () => {
    await bad('/api/image?id=12', 404, /^record 12 not found: the database has 12 records \(ids 0\.\.11\)$/);
    await bad('/api/record?id=99999999', 404, /record 99999999 not found/);
    await bad('/api/file?id=12', 404, /not found/);
    await bad('/api/image?id=9007199254740993', 400, /id must be an integer/);
    const page = await getBytes(`${base}/record?id=40`);
    assert.equal(page.status, 404);
    assert.match(page.type!, /text\/html/);
  });

  test('path traversal and unknown paths never leave the pages folder', async () => {
    const targets = [
      '/static/../../../../etc/passwd', '/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/static/..%2f..%2fserver.ts', '/static/%2e%2e%2fserver.ts',
      '/../../../etc/passwd', '/static//etc/passwd', '/static/overview.js%00.html', '/static/.hidden.css', '/static/', '/api/../../etc/passwd',
      '/static/..\\..\\server.ts', `/static/${encodeURIComponent(path.resolve(file))}`, '/api/file?id=../../etc/passwd',
    ];
    for (const target of targets) {
      const reply = await rawRequest(viewer.port, target);
      assert.ok(reply.status === 404 || reply.status === 400, `${target}: ${reply.status}`);
      assert.doesNotMatch(reply.body.toString(), /root:|ViewerServer|PicpacWriter/, target);
    }
  });

  test('read-only methods; loopback host names only', async () => {
    const post = await rawRequest(viewer.port, '/api/overview', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    const head = await rawRequest(viewer.port, '/api/image?id=1', { method: 'HEAD' });
    assert.equal(head.status, 200);
    const rebinding = await rawRequest(viewer.port, '/api/overview', { headers: { host: 'evil.example:18888' } });
    assert.equal(rebinding.status, 403);
    assert.match(JSON.parse(rebinding.body.toString()).error, /host "evil.example" not allowed/);
    const localhost = await rawRequest(viewer.port, '/api/sample?count=1', { headers: { host: `localhost:${viewer.port}` } });
    assert.equal(localhost.status, 200);
  });
});

describe('random queries', () => {
  test('any query on /api/image is a 200 or a 4xx with a message, never a 500 or a dead server', async () => {
    const fc = await import('fast-check');
    const { STREAM_PARAM_NAMES } = await import('../../src/augment/config-schema.ts');
    const names = [...STREAM_PARAM_NAMES.filter((n) => n !== 'mixin'), 'id', 'format', 'quality', 'norm', 'anno_factor', 'output', 'bogus'];
    const value = fc.oneof(
      fc.integer({ min: -5, max: 5000 }).map(String),
      fc.double({ min: -10, max: 10, noNaN: true }).map((v) => v.toFixed(2)),
      fc.constantFrom('', '0', '1', 'json', 'image', 'auto', 'png', 'label', 'HSV', 'NCHW', 'true', '1e9', '-1', 'NaN', '%', '../x'),
    );
    const statuses = new Map<number, number>();
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...names), value), { maxLength: 5 }), async (pairs) => {
      const query = new URLSearchParams([['id', '3'], ...pairs]);
      const reply = await fetch(`${base}/api/image?${query}`);
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      if (reply.status === 200) {
        assert.match(reply.headers.get('content-type')!, /^image\//);
        await reply.arrayBuffer();
        return;
      }
      const body = (await reply.json()) as { error: string };
      assert.ok([400, 404, 422].includes(reply.status), `${query}: ${reply.status} ${body.error}`);
      assert.equal(typeof body.error, 'string');
      assert.ok(body.error.length > 0);
    }), { seed: 42, numRuns: 150 });
    assert.ok((statuses.get(200) ?? 0) > 10 && (statuses.get(400) ?? 0) > 10, JSON.stringify([...statuses]));
    assert.equal((await fetch(`${base}/api/sample?count=1`)).status, 200, 'still serving');
  });
});
