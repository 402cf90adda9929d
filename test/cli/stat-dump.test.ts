// picpac stat and picpac dump on a generated store: counts, JSON output, the exact dump line
// format checked against the store's content, and --extract.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openStore } from '../../src/engine/open-store.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { cli, makeImageTree, parseJsonLines, tempDir, type ImageTree } from './helpers.ts';

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const DUMP_LINE =
  /^\{"index":\d+,"id":\d+,"label":-?\d+(\.\d+)?(e[+-]?\d+)?,"label2":-?\d+(\.\d+)?(e[+-]?\d+)?,"fields":\[(\{"type":"[a-z]+(\/[a-z0-9.+-]+)?","size":\d+,"sha256":"[0-9a-f]{64}"\},?)*\]\}$/;

describe('picpac stat / dump', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let tree: ImageTree;
  let db: string;
  let annotated: string;

  before(async () => {
    tmp = await tempDir();
    tree = await makeImageTree(path.join(tmp.dir, 'tree'));
    db = path.join(tmp.dir, 'tree.picpac');
    assert.equal((await cli('import', tree.root, db, '-q')).code, 0);
    const list = path.join(tmp.dir, 'anno.tsv');
    const rect = '{"type":"rect","geometry":{"x":0.1,"y":0.1,"width":0.2,"height":0.2}}';
    const poly = '{"type":"polygon","geometry":{"points":[{"x":0.1,"y":0.1},{"x":0.5,"y":0.1},{"x":0.3,"y":0.4}]}}';
    await writeFile(
      list,
      [
        `tree/apple/a0.jpg\t{"shapes":[${rect},${rect}]}`,
        `tree/apple/a1.jpg\t{"shapes":[${poly}]}`,
        'tree/apple/a2.jpg\t0.25',
        'tree/apple/a3.jpg\t0.75',
      ].join('\n'),
    );
    annotated = path.join(tmp.dir, 'anno.picpac');
    assert.equal((await cli('import', list, annotated, '-q')).code, 0);
  });
  after(() => tmp.cleanup());

  test('stat: counts per label, codecs, sizes, overhead', async () => {
    const r = await cli('stat', db);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^records: 30$/m);
    assert.match(r.stdout, /^labels: integer, 3 distinct$/m);
    assert.match(r.stdout, /^ {2}0: 12$/m);
    assert.match(r.stdout, /^ {2}1: 10$/m);
    assert.match(r.stdout, /^ {2}2: 8$/m);
    assert.match(r.stdout, /^codecs: jpeg 20, png 10$/m);
    assert.match(r.stdout, /^width: min 30 {2}median 48 {2}max 200$/m);
    assert.match(r.stdout, /^overhead: \d+\.\d\d %$/m);
    assert.doesNotMatch(r.stdout, /label2/);
  });

  test('stat --json parses and agrees with the file', async () => {
    const r = await cli('stat', db, '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.recordCount, 30);
    assert.deepEqual(report.labels, { kind: 'integer', counts: { '0': 12, '1': 10, '2': 8 } });
    assert.equal(report.label2, null);
    assert.deepEqual(report.codecs, { jpeg: 20, png: 10 });
    assert.deepEqual(report.width, { min: 30, median: 48, max: 200 });
    assert.deepEqual(report.height, { min: 20, median: 40, max: 200 });
    assert.equal(report.fileByteLength, (await stat(db)).size);
    let imageBytes = 0;
    for (const rel of tree.expected.keys()) imageBytes += (await stat(path.join(tree.root, rel))).size;
    assert.equal(report.imageByteLength, imageBytes);
    assert.equal(report.fieldByteLength, imageBytes);
    assert.ok(Math.abs(report.overheadPercent - ((report.fileByteLength - imageBytes) / imageBytes) * 100) < 1e-9);
    assert.deepEqual(report.sizeHistogram, { '<=64': 22, '<=256': 8 });
    assert.equal(report.scan, null);
  });

  test('stat: float labels summarised, annotation shapes counted; --scan reports a rate', async () => {
    const r = await cli('stat', annotated, '--json', '--scan');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.labels, { kind: 'float', min: 0, mean: 0.25, max: 0.75, distinct: 3 });
    assert.deepEqual(report.annotations, { records: 2, shapes: { rect: 2, polygon: 1 }, invalid: 0, invalidShapes: 0, invalidShapeRecords: 0, firstInvalidShape: null });
    assert.ok(report.scan.recordsPerSecond > 0 && report.scan.megabytesPerSecond > 0);
    const text = await cli('stat', annotated, '--scan');
    assert.match(text.stdout, /^labels: float {2}min 0 {2}mean 0\.25 {2}max 0\.75 {2}\(3 distinct\)$/m);
    assert.match(text.stdout, /^annotations: 2 records; shapes: rect 2, polygon 1$/m);
    assert.match(text.stdout, /^scan: all checksums verified in [\d.]+ s, \d+ records\/s, [\d.]+ MB\/s$/m);
  });

  test('stat without --scan reads no record frame: damaged field bytes go unnoticed; --scan finds them', async () => {
    const damaged = path.join(tmp.dir, 'damaged-fields.picpac');
    await writeFile(damaged, await readFile(annotated));
    const reader = await PicpacReader.open(damaged);
    const fieldOffset = reader.columns.frameOffset[3] + 200; // inside record 3's image bytes
    await reader.close();
    const handle = await open(damaged, 'r+');
    await handle.write(new Uint8Array(8).fill(0xa5), 0, 8, fieldOffset);
    await handle.close();
    const quick = await cli('stat', damaged, '--json');
    assert.equal(quick.code, 0, quick.stderr);
    const expected = JSON.parse((await cli('stat', annotated, '--json', '--scan')).stdout);
    const report = JSON.parse(quick.stdout);
    for (const key of ['recordCount', 'labels', 'annotations', 'codecs', 'width', 'height', 'sizeHistogram', 'fieldByteLength', 'imageByteLength', 'overheadPercent']) {
      assert.deepEqual(report[key], expected[key], key);
    }
    assert.equal(report.scan, null);
    const scanned = await cli('stat', damaged, '--scan');
    assert.equal(scanned.code, 1);
    assert.match(scanned.stderr, /checksum|crc/i);
  });

  test('stat: image bytes of records with two fields need --scan (null without it)', async () => {
    const twoFields = path.join(tmp.dir, 'two-fields.picpac');
    const image = new Uint8Array(await readFile(path.join(tree.root, [...tree.expected.keys()][0])));
    const mask = new Uint8Array(300).fill(7);
    const writer = await PicpacWriter.create(twoFields, { fsyncOnClose: false });
    await writer.append({ label: 1, fields: [{ kind: 'image', bytes: image }] });
    await writer.append({ label: 2, fields: [{ kind: 'image', bytes: image }, { kind: 'bytes', bytes: mask }] });
    await writer.close();
    const quick = JSON.parse((await cli('stat', twoFields, '--json')).stdout);
    assert.equal(quick.fieldByteLength, 2 * image.length + mask.length);
    assert.equal(quick.imageByteLength, null);
    assert.match((await cli('stat', twoFields)).stdout, /^payload: [\d,]+ bytes in fields \(image bytes: use --scan\)$/m);
    const scanned = JSON.parse((await cli('stat', twoFields, '--json', '--scan')).stdout);
    assert.equal(scanned.fieldByteLength, quick.fieldByteLength);
    assert.equal(scanned.imageByteLength, 2 * image.length);
  });

  test('dump: one exact line per record, matching the store', async () => {
    const r = await cli('dump', db);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 30);
    const store = await openStore(db);
    try {
      for (const [i, line] of lines.entries()) {
        assert.match(line, DUMP_LINE);
        const rec = await store.get(i);
        const expected =
          `{"index":${i},"id":${rec.id},"label":${rec.label},"label2":${rec.label2},"fields":[` +
          rec.fields.map((f) => `{"type":"${f.type}","size":${f.bytes.length},"sha256":"${sha(f.bytes)}"}`).join(',') +
          ']}';
        assert.equal(line, expected);
      }
    } finally {
      await store.close();
    }
  });

  test('dump: the annotation is listed last as annotation/json; --extract writes every field', async () => {
    const outDir = path.join(tmp.dir, 'extracted');
    const r = await cli('dump', annotated, '--extract', outDir);
    assert.equal(r.code, 0, r.stderr);
    const rows = parseJsonLines(r.stdout);
    assert.equal(rows.length, 4);
    const fields0 = rows[0].fields as Array<{ type: string; size: number; sha256: string }>;
    assert.equal(fields0.length, 2);
    assert.equal(fields0[0].type, 'image/jpeg');
    assert.equal(fields0[1].type, 'annotation/json');
    assert.equal(rows[2].label, 0.25);
    assert.equal((rows[2].fields as unknown[]).length, 1);
    const files = (await readdir(outDir)).sort();
    assert.deepEqual(files, ['0.0.jpg', '0.1.json', '1.0.jpg', '1.1.json', '2.0.jpg', '3.0.jpg']);
    const json = await readFile(path.join(outDir, '0.1.json'));
    assert.equal(sha(json), fields0[1].sha256);
    assert.equal(JSON.parse(json.toString()).shapes.length, 2);
  });
});
