// picpac annotate init|status|export|import and the converters outside the annotator
// (`picpac import --format coco|voc|yolo|w3c|list`, `picpac export DB DIR --format ...`):
// every format round-trips the project's shapes within a pixel; bad input and misuse exit
// 1 or 2 with a message naming the file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fromPicpacAnnotation } from '../../src/annotate/formats/picpac-json.ts';
import { AnnotationProject } from '../../src/annotate/project.ts';
import type { Shape } from '../../src/annotate/shapes.ts';
import { openStore } from '../../src/engine/open-store.ts';
import { cli } from '../cli/helpers.ts';
import { makeImageFolder, tempRoot } from './helpers.ts';

const SHAPES: Record<number, Shape[]> = {
  1: [{ id: 'r1', type: 'rect', className: 'car', geometry: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 } }],
  2: [
    { id: 'p1', type: 'polygon', className: 'plate', geometry: { points: [{ x: 0.1, y: 0.1 }, { x: 0.9, y: 0.15 }, { x: 0.5, y: 0.8 }] } },
    { id: 'q1', type: 'point', className: 'car', geometry: { x: 0.25, y: 0.75 } },
  ],
  4: [{ id: 'r2', type: 'rect', className: 'plate', geometry: { x: 0.5, y: 0.5, width: 0.5, height: 0.5 } }],
};

async function readShapes(file: string): Promise<Array<{ id: number; shapes: Shape[]; width: number }>> {
  const store = await openStore(file);
  try {
    const out = [];
    for (let i = 0; i < store.recordCount; i++) {
      const meta = store.meta(i);
      out.push({ id: meta.id, width: meta.width, shapes: fromPicpacAnnotation((await store.getAnnotation(i)) ?? '{}') });
    }
    return out;
  } finally {
    await store.close();
  }
}

function assertWithinPixel(actual: Shape[], expected: Shape[], W: number, H: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: shape count`);
  expected.forEach((e, i) => {
    const a = actual[i];
    assert.equal(a.type, e.type, `${what}: type`);
    assert.equal(a.className, e.className, `${what}: class`);
    const flat = (s: Shape): number[] => (s.type === 'polygon' ? s.geometry.points.flatMap((p) => [p.x * W, p.y * H]) : s.type === 'rect' ? [s.geometry.x * W, s.geometry.y * H, (s.geometry.x + s.geometry.width) * W, (s.geometry.y + s.geometry.height) * H] : s.type === 'point' ? [s.geometry.x * W, s.geometry.y * H] : []);
    flat(a).forEach((v, k) => assert.ok(Math.abs(v - flat(e)[k]) <= 1, `${what}: coordinate ${k}: ${v} vs ${flat(e)[k]}`));
  });
}

describe('picpac annotate and format conversion (CLI)', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let photos: string;
  let proj: string;
  const sizes = new Map<number, { width: number; height: number; name: string }>();

  before(async () => {
    tmp = await tempRoot();
    photos = path.join(tmp.dir, 'photos');
    await makeImageFolder(photos, 5, { width: 120, height: 80 });
    proj = path.join(tmp.dir, 'proj');
    const r = await cli('annotate', 'init', proj, '--images', photos, '--classes', 'car,plate');
    assert.equal(r.code, 0, r.stderr);
    const project = await AnnotationProject.open(proj);
    for (const [id, shapes] of Object.entries(SHAPES)) for (const shape of shapes) await project.apply({ imageId: Number(id), action: 'create', shape, user: 'tester' });
    await project.setViewed([3], true);
    for (const id of project.imageIds()) sizes.set(id, { ...project.image(id)! });
    await project.close();
  });
  after(() => tmp.cleanup());

  test('status: counts and the annotator table, as text and JSON', async () => {
    const r = await cli('annotate', 'status', proj);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /images: +total 5, done 3, todo 2/);
    assert.match(r.stdout, /tester: 4 shapes created, 4 changes, 3 images/);
    const json = JSON.parse((await cli('annotate', 'status', proj, '--json')).stdout);
    assert.deepEqual([json.total, json.done, json.viewed, json.shapes], [5, 3, 1, 4]);
    assert.deepEqual(json.classes, ['car', 'plate']);
  });

  test('export to .picpac: images with shapes (and with --all the viewed negatives), label = class number', async () => {
    const out = path.join(tmp.dir, 'out.picpac');
    const r = await cli('annotate', 'export', proj, out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /exported 3 images, 4 shapes to .*out\.picpac \(classes: 1=car 2=plate\)/);
    const records = await readShapes(out);
    assert.deepEqual(records.map((x) => x.id), [1, 2, 4]);
    for (const rec of records) assertWithinPixel(rec.shapes, SHAPES[rec.id], 1, 1, `image ${rec.id}`);
    const store = await openStore(out);
    const raw = JSON.parse((await store.getAnnotation(1))!);
    const record = await store.get(0);
    await store.close();
    assert.deepEqual(raw.shapes.map((s: { label: number; tag: number }) => [s.label, s.tag]), [[2, 1], [1, 2]]);
    assert.deepEqual(record.fields[0].bytes, new Uint8Array(await readFile(path.join(photos, sizes.get(1)!.name))));
    assert.deepEqual(JSON.parse(await readFile(`${out}.shape-classes.json`, 'utf8')), { car: 1, plate: 2 });
    const again = await cli('annotate', 'export', proj, out);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /refusing to overwrite/);
    const all = await cli('annotate', 'export', proj, out, '--all', '--overwrite');
    assert.equal(all.code, 0, all.stderr);
    const withNegatives = await readShapes(out);
    assert.deepEqual(withNegatives.map((x) => [x.id, x.shapes.length]), [[1, 1], [2, 2], [3, 0], [4, 1]]);
  });

  for (const format of ['coco', 'voc', 'yolo', 'w3c'] as const) {
    test(`${format}: annotate export → picpac import --format → picpac export --format → annotate import keeps every shape`, async () => {
      const dir = path.join(tmp.dir, `${format}-1`);
      const exported = await cli('annotate', 'export', proj, dir, '--format', format);
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stdout, new RegExp(`exported 3 images, 4 shapes to .* as ${format}`));
      // A YOLO dataset with a polygon is a segment dataset: it has no points (counted, not silent).
      const expectedShapes = (id: number): Shape[] => (format === 'yolo' ? SHAPES[id].filter((s) => s.type !== 'point') : SHAPES[id]);
      const kept = format === 'yolo' ? 3 : 4;
      if (format === 'yolo') assert.match(exported.stderr, /warning: 1 points left out/);
      const src = format === 'coco' ? path.join(dir, 'annotations.json') : format === 'w3c' ? path.join(dir, 'annotations.w3c.json') : dir;
      // Outside the annotator: import into a .picpac ...
      const db = path.join(tmp.dir, `${format}.picpac`);
      const imported = await cli('import', src, db, '--format', format, '-q');
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /imported 3 records/);
      const records = await readShapes(db);
      const ids = [1, 2, 4];
      records.forEach((rec, k) => {
        const { width, height } = sizes.get(ids[k])!;
        assertWithinPixel(rec.shapes, expectedShapes(ids[k]), width, height, `${format} image ${ids[k]}`);
      });
      // ... export it again in the same format (class names travel in the annotation JSON) ...
      const dir2 = path.join(tmp.dir, `${format}-2`);
      const again = await cli('export', db, dir2, '--format', format);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`exported 3 images, ${kept} shapes to .* as ${format} \\(2 classes\\)`));
      // ... and load it into a fresh project of the same images, matched by file name.
      const proj2 = path.join(tmp.dir, `proj-${format}`);
      assert.equal((await cli('annotate', 'init', proj2, '--images', photos)).code, 0);
      const src2 = format === 'coco' ? path.join(dir, 'annotations.json') : format === 'w3c' ? path.join(dir, 'annotations.w3c.json') : dir;
      const loaded = await cli('annotate', 'import', proj2, src2, '--format', format);
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.match(loaded.stdout, new RegExp(`imported ${kept} shapes into 3 images \\(0 unmatched\\)`));
      const project = await AnnotationProject.open(proj2);
      try {
        assert.deepEqual(project.classes, ['car', 'plate']);
        for (const id of ids) assertWithinPixel(project.state(id).shapes, expectedShapes(id), sizes.get(id)!.width, sizes.get(id)!.height, `${format} project image ${id}`);
      } finally {
        await project.close();
      }
    });
  }

  test('picpac export of a store made elsewhere: Owl-style shapes (no class) become "object", numeric labels keep their numbers', async () => {
    const { PicpacWriter } = await import('../../src/engine/picpac/picpac-writer.ts');
    const db = path.join(tmp.dir, 'owl.picpac');
    const writer = await PicpacWriter.create(db);
    const jpeg = new Uint8Array(await readFile(path.join(photos, 'img001.jpg')));
    await writer.append({ fields: [{ kind: 'image', bytes: jpeg }], annotation: '{"shapes":[{"type":"rect","geometry":{"x":0.5,"y":0.25,"width":0.25,"height":0.5},"style":{}}]}' });
    await writer.append({ fields: [{ kind: 'image', bytes: jpeg }] });
    await writer.close();
    const yolo = path.join(tmp.dir, 'owl-yolo');
    const r = await cli('export', db, yolo, '--format', 'yolo');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /exported 2 images, 1 shapes .* \(1 classes\)/);
    assert.equal(await readFile(path.join(yolo, 'classes.txt'), 'utf8'), 'object\n');
    assert.equal(await readFile(path.join(yolo, 'labels', '000000.txt'), 'utf8'), '0 0.625 0.5 0.25 0.5\n');
    assert.equal(await readFile(path.join(yolo, 'labels', '000001.txt'), 'utf8'), '', 'no annotation: a negative');
    assert.ok((await readdir(path.join(yolo, 'images'))).includes('000001.jpg'));
    const annotated = await cli('export', db, path.join(tmp.dir, 'owl-coco'), '--format', 'coco', '--annotated', '--labels-only');
    assert.equal(annotated.code, 0, annotated.stderr);
    const coco = JSON.parse(await readFile(path.join(tmp.dir, 'owl-coco', 'annotations.json'), 'utf8'));
    assert.equal(coco.images.length, 1);
    assert.deepEqual(coco.annotations[0].bbox, [60, 20, 30, 40]);

    const numeric = path.join(tmp.dir, 'numeric.picpac');
    const w2 = await PicpacWriter.create(numeric);
    await w2.append({ fields: [{ kind: 'image', bytes: jpeg }], annotation: '{"shapes":[{"type":"point","label":2,"geometry":{"x":0.5,"y":0.5}}]}' });
    await w2.close();
    const out = path.join(tmp.dir, 'numeric-yolo');
    assert.equal((await cli('export', numeric, out, '--format', 'yolo')).code, 0);
    assert.equal(await readFile(path.join(out, 'classes.txt'), 'utf8'), '1\n2\n', 'label k is YOLO id k-1');
    assert.equal(await readFile(path.join(out, 'labels', '000000.txt'), 'utf8'), '1 0.5 0.5 0 0\n');
    const named = path.join(tmp.dir, 'numeric-named');
    assert.equal((await cli('export', numeric, named, '--format', 'yolo', '--classes', 'car,plate')).code, 0);
    assert.equal(await readFile(path.join(named, 'classes.txt'), 'utf8'), 'car\nplate\n');
    const full = await cli('export', numeric, named, '--format', 'yolo');
    assert.equal(full.code, 1);
    assert.match(full.stderr, /refusing to write into .*numeric-named: the folder is not empty \(pass --overwrite\)/);
  });

  test('yolo layout: labels, classes.txt, data.yaml, images; --labels-only skips the images', async () => {
    const dir = path.join(tmp.dir, 'yolo-layout');
    assert.equal((await cli('annotate', 'export', proj, dir, '--format', 'yolo', '--labels-only', '--all')).code, 0);
    assert.deepEqual((await readdir(dir)).sort(), ['classes.txt', 'data.yaml', 'labels']);
    assert.equal(await readFile(path.join(dir, 'classes.txt'), 'utf8'), 'car\nplate\n');
    assert.equal(await readFile(path.join(dir, 'labels', 'img003.txt'), 'utf8'), '', 'a negative has an empty label file');
    // The project has a polygon, so this is a segment dataset: the rect is its 4 corners.
    assert.match(await readFile(path.join(dir, 'labels', 'img001.txt'), 'utf8'), /^0 0\.1 0\.2 0\.4 0\.2 0\.4 0\.6 0\.1 0\.6\n$/);
  });

  test('init from a list file (missing files reported) and with --copy (works without the originals)', async () => {
    const list = path.join(tmp.dir, 'list.txt');
    await writeFile(list, `# images\nphotos/img001.jpg\nphotos/img002.jpg\tmeta\nphotos/missing.jpg\n`);
    const r = await cli('annotate', 'init', path.join(tmp.dir, 'from-list'), '--list', list, '--copy');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2 images \(copied\), 1 skipped/);
    assert.match(r.stderr, /warning: photos\/missing\.jpg: cannot read: ENOENT; skipped/);
    const copyOfPhotos = path.join(tmp.dir, 'photos-moved');
    await makeImageFolder(copyOfPhotos, 1);
    const project = await AnnotationProject.open(path.join(tmp.dir, 'from-list'));
    await project.apply({ imageId: 2, action: 'create', shape: SHAPES[1][0], user: 'x' });
    await project.close();
    await rm(copyOfPhotos, { recursive: true });
    const out = path.join(tmp.dir, 'copied.picpac');
    assert.equal((await cli('annotate', 'export', path.join(tmp.dir, 'from-list'), out)).code, 0);
    const store = await openStore(out);
    const record = await store.get(0);
    await store.close();
    assert.deepEqual(record.fields[0].bytes, new Uint8Array(await readFile(path.join(photos, 'img002.jpg'))));
  });

  test('misuse is a usage error (exit 2); bad data exits 1 naming the file', async () => {
    const usage: Array<[string[], RegExp]> = [
      [['annotate', 'frob', proj], /unknown sub-command 'frob'/],
      [['annotate', 'serve', proj, '--all'], /--all does not apply to 'annotate serve'/],
      [['annotate', 'init', path.join(tmp.dir, 'x')], /init needs exactly one of --images DIR or --list FILE/],
      [['annotate', 'export', proj], /expected 'picpac annotate export PROJECT OUT'/],
      [['annotate', 'serve', proj, '--shape', 'circle'], /invalid value for --shape: expected one of rect, polygon, point/],
      [['annotate', 'serve', proj, '--rows', '0'], /invalid value for --rows/],
      [['annotate', 'init', path.join(tmp.dir, 'y'), '--images', photos, '--classes', 'a,a'], /a name appears twice/],
      [['annotate', 'import', proj, 'x.json'], /import needs --format coco\|voc\|yolo\|w3c/],
      [['annotate', 'export', proj, 'o.picpac', '--labels-only'], /--labels-only applies to --format/],
      [['export', 'a.picpac', 'dir'], /--format is required/],
      [['import', 'a', 'b.picpac', '--to', 'v1'], /--to and --images go with --format/],
      [['import', path.join(tmp.dir, 'out.picpac'), path.join(tmp.dir, 'z.picpac'), '--format', 'list'], /is not a list file/],
    ];
    for (const [argv, message] of usage) {
      const r = await cli(...argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    const notProject = await cli('annotate', 'status', photos);
    assert.equal(notProject.code, 1);
    assert.match(notProject.stderr, /is not an annotation project/);
    const bad = path.join(tmp.dir, 'bad-coco.json');
    await writeFile(bad, JSON.stringify({ images: [{ id: 1, file_name: 'img001.jpg', width: 10, height: 10 }], categories: [{ id: 1, name: 'a' }], annotations: [{ id: 1, image_id: 2, category_id: 1, bbox: [0, 0, 1, 1] }] }));
    const r = await cli('import', bad, path.join(tmp.dir, 'bad.picpac'), '--format', 'coco', '--images', photos, '-q');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad-coco\.json: annotations\[0\]: image_id 2 is not in "images"/);
    const badYolo = path.join(tmp.dir, 'bad-yolo');
    await makeImageFolder(path.join(badYolo, 'images'), 1);
    await writeFile(path.join(badYolo, 'classes.txt'), 'a\n');
    await (await import('node:fs/promises')).mkdir(path.join(badYolo, 'labels'));
    await writeFile(path.join(badYolo, 'labels', 'img001.txt'), '0 0.5 0.5 0.2 0.2\n5 0.5 0.5 0.1 0.1\n');
    const y = await cli('import', badYolo, path.join(tmp.dir, 'bad-y.picpac'), '--format', 'yolo', '-q');
    assert.equal(y.code, 1);
    assert.match(y.stderr, /labels\/img001\.txt: line 2: class id 5 is not in the class list/);
  });
});
