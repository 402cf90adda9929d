// picpac import: directory trees, list files, databases, re-encoding, overwrite/append, --strict.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { openStore } from '../../src/engine/open-store.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import type { StoredRecord } from '../../src/engine/store.ts';
import { parseListFile } from '../../src/cli/import-sources.ts';
import { runCli } from '../../src/cli/main.ts';
import { captureIo, cli, makeImage, makeImageTree, tempDir, type ImageTree } from './helpers.ts';

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function readAll(file: string): Promise<StoredRecord[]> {
  const store = await openStore(file);
  try {
    const out: StoredRecord[] = [];
    for (let i = 0; i < store.recordCount; i++) out.push(await store.get(i));
    return out;
  } finally {
    await store.close();
  }
}

const exists = (file: string): Promise<boolean> => access(file).then(() => true, () => false);

describe('picpac import', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let tree: ImageTree;
  /** Image paths in the order import must append them (top files, then class folders sorted). */
  let order: string[];

  before(async () => {
    tmp = await tempDir();
    tree = await makeImageTree(path.join(tmp.dir, 'tree'));
    order = [...tree.expected.keys()].sort((a, b) => {
      const depth = (p: string): number => (p.includes('/') ? 1 : 0);
      return depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0);
    });
  });
  after(() => tmp.cleanup());

  test('a directory tree: class folders → labels, non-images skipped and counted, input order kept', async () => {
    const out = path.join(tmp.dir, 'tree.picpac');
    const r = await cli('import', tree.root, out, '--quiet');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported 30 records into .* \(2 skipped\)/);
    assert.match(r.stdout, /classes: 0=apple 1=banana 2=cherry/);
    assert.match(r.stderr, /warning: .*notes\.txt: not a recognised image; skipped/);
    assert.match(r.stderr, /warning: .*broken\.jpg: .*skipped/);
    const mapping = JSON.parse(await readFile(`${out}.classes.json`, 'utf8'));
    assert.deepEqual(mapping, { apple: 0, banana: 1, cherry: 2 });
    const records = await readAll(out);
    assert.equal(records.length, tree.imageCount);
    for (const [i, rel] of order.entries()) {
      assert.equal(records[i].label, tree.expected.get(rel), `label of ${rel}`);
      assert.equal(records[i].fields.length, 1);
      assert.equal(sha(records[i].fields[0].bytes), sha(await readFile(path.join(tree.root, rel))), `bytes of ${rel}`);
    }
    assert.equal(records[2].fields[0].type, 'image/jpeg');
    assert.equal(records[12].fields[0].type, 'image/png');
    assert.equal(records[12].width, 40);
  });

  test('folders named by integers keep their numbers; no classes file', async () => {
    const root = path.join(tmp.dir, 'numbered');
    await makeImage(path.join(root, '3/x.jpg'), { width: 16, height: 16, seed: 3 });
    await makeImage(path.join(root, '7/y.jpg'), { width: 16, height: 16, seed: 7 });
    await makeImage(path.join(root, '7/z.jpg'), { width: 16, height: 16, seed: 8 });
    const out = path.join(tmp.dir, 'numbered.picpac');
    const r = await cli('import', root, out, '-q');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readAll(out)).map((x) => x.label), [3, 7, 7]);
    assert.equal(await exists(`${out}.classes.json`), false);
  });

  test('--strict: the first bad input fails with exit 1 naming it, and no output is left', async () => {
    const out = path.join(tmp.dir, 'strict.picpac');
    const r = await cli('import', tree.root, out, '--strict', '-q');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /notes\.txt: not a recognised image \(stopped by --strict\)/);
    assert.doesNotMatch(r.stderr, /\n\s+at /); // no stack trace
    assert.equal(await exists(out), false);
  });

  test('a list file with labels: relative paths resolve against its folder; bad lines skipped', async () => {
    const listDir = path.join(tmp.dir, 'lists');
    await mkdir(listDir, { recursive: true });
    const rel = path.relative(listDir, tree.root);
    const lines = [
      '# comment',
      `${rel}/apple/a0.jpg\t1.5`,
      `${rel}/banana/b0.png\t-2`,
      '',
      `${path.join(tree.root, 'cherry/c0.jpg')}\t7`,
      `${rel}/apple/a1.jpg\tnot-a-number`,
      `${rel}/missing.jpg\t1`,
    ];
    const list = path.join(listDir, 'labels.tsv');
    await writeFile(list, lines.join('\n') + '\n');
    const out = path.join(tmp.dir, 'labels.picpac');
    const r = await cli('import', list, out, '-q');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported 3 records .*\(2 skipped\)/);
    assert.match(r.stderr, /line 6 .*label is not a number/);
    assert.match(r.stderr, /labels\.tsv: line 7 \(.*missing\.jpg\): cannot read/);
    const records = await readAll(out);
    assert.deepEqual(records.map((x) => x.label), [1.5, -2, 7]);
    assert.equal(sha(records[1].fields[0].bytes), sha(await readFile(path.join(tree.root, 'banana/b0.png'))));
  });

  test('a list file with annotation JSON: stored as the annotation, label 0', async () => {
    const anno = '{"shapes":[{"type":"rect","geometry":{"x":0.1,"y":0.2,"width":0.3,"height":0.4}}]}';
    const list = path.join(tmp.dir, 'anno.tsv');
    await writeFile(list, `tree/apple/a0.jpg\t${anno}\ntree/apple/a1.jpg\t3\ntree/apple/a2.jpg\t{not json\n`);
    const out = path.join(tmp.dir, 'anno.picpac');
    const r = await cli('import', list, out, '-q');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /line 3 .*invalid annotation JSON/);
    const records = await readAll(out);
    assert.equal(records.length, 2);
    assert.equal(records[0].annotation, anno);
    assert.equal(records[0].label, 0);
    assert.equal(records[1].annotation, undefined);
    assert.equal(records[1].label, 3);
  });

  test('parseListFile detects JSON per line and keeps paths relative to the list', () => {
    const { lines, problems } = parseListFile('a.jpg\t{"shapes":[]}\r\nb.jpg\t2\nc.jpg\n', '/data');
    assert.deepEqual(lines, [
      { line: 1, path: '/data/a.jpg', label: 0, annotation: '{"shapes":[]}' },
      { line: 2, path: '/data/b.jpg', label: 2 },
      { line: 3, path: '/data/c.jpg', label: 0 },
    ]);
    assert.deepEqual(problems, []);
  });

  test('--max-size re-encodes only images whose long side is larger, keeping aspect and codec', async () => {
    const out = path.join(tmp.dir, 'small.picpac');
    const r = await cli('import', tree.root, out, '--max-size', '100', '--quality', '70', '-q');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /8 re-encoded/);
    const records = await readAll(out);
    for (const [i, rel] of order.entries()) {
      const original = await readFile(path.join(tree.root, rel));
      const rec = records[i];
      if (rel.startsWith('cherry/')) {
        assert.notEqual(sha(rec.fields[0].bytes), sha(original));
        assert.equal(Math.max(rec.width, rec.height), 100, rel);
        assert.equal(rec.fields[0].type, 'image/jpeg');
        assert.deepEqual([rec.width, rec.height], rel.includes('deep') ? [60, 100] : [100, 60]);
      } else {
        assert.equal(sha(rec.fields[0].bytes), sha(original), `${rel} must be untouched`);
      }
    }
  });

  test('--max-size on a database shrinks label images (masks) with their image, nearest-neighbour', async () => {
    const width = 200;
    const height = 100;
    const mask = new Uint8Array(width * height).map((_, i) => ((i % width) < 70 ? 0 : (i % width) < 140 ? 1 : 2));
    const maskPng = await sharp(mask, { raw: { width, height, channels: 1 } }).png().toBuffer();
    const imageFile = path.join(tmp.dir, 'mask-src.jpg');
    await makeImage(imageFile, { width, height, seed: 5 });
    const src = path.join(tmp.dir, 'masks.picpac');
    const writer = await PicpacWriter.create(src);
    await writer.append({ label: 1, fields: [{ kind: 'image', bytes: await readFile(imageFile) }, { kind: 'label', bytes: maskPng }] });
    await writer.close();
    const out = path.join(tmp.dir, 'masks-small.picpac');
    const r = await cli('import', src, out, '--max-size', '50', '-q');
    assert.equal(r.code, 0, r.stderr);
    const [rec] = await readAll(out);
    assert.deepEqual(rec.fields.map((f) => [f.kind, f.type, f.width, f.height]), [
      ['image', 'image/jpeg', 50, 25],
      ['label', 'label/png', 50, 25],
    ]);
    const { data } = await sharp(rec.fields[1].bytes).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([...new Set(data)].sort(), [0, 1, 2], 'no blended class values');
  });

  test('refuses to overwrite (exit 1); --overwrite replaces; --append adds', async () => {
    const out = path.join(tmp.dir, 'twice.picpac');
    assert.equal((await cli('import', path.join(tree.root, 'apple'), out, '-q')).code, 0);
    const refused = await cli('import', path.join(tree.root, 'apple'), out, '-q');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refusing to overwrite existing file .*twice\.picpac \(pass --overwrite/);
    assert.equal((await readAll(out)).length, 10);
    const replaced = await cli('import', path.join(tree.root, 'banana'), out, '--overwrite', '-q');
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.equal((await readAll(out)).length, 10);
    const appended = await cli('import', path.join(tree.root, 'apple'), out, '--append', '-q');
    assert.equal(appended.code, 0, appended.stderr);
    const records = await readAll(out);
    assert.equal(records.length, 20);
    assert.equal(records[0].fields[0].type, 'image/png');
    assert.equal(records[19].fields[0].type, 'image/jpeg');
  });

  test('from another database (and to PicPac 1.0 with --format v1): records, labels, annotations copied', async () => {
    const list = path.join(tmp.dir, 'anno2.tsv');
    await writeFile(list, `tree/apple/a0.jpg\t{"shapes":[]}\ntree/banana/b1.png\t4\n`);
    const first = path.join(tmp.dir, 'first.picpac');
    assert.equal((await cli('import', list, first, '-q')).code, 0);
    const v1 = path.join(tmp.dir, 'copy.db');
    const r = await cli('import', first, v1, '--format', 'v1', '-q');
    assert.equal(r.code, 0, r.stderr);
    const again = path.join(tmp.dir, 'again.picpac');
    assert.equal((await cli('import', v1, again, '--align', '4096', '-q')).code, 0);
    for (const file of [v1, again]) {
      const records = await readAll(file);
      assert.equal(records.length, 2);
      assert.equal(records[0].annotation, '{"shapes":[]}');
      assert.equal(records[1].label, 4);
      assert.equal(records[1].fields[0].type, 'image/png');
    }
  });

  test('progress on a TTY: redrawn in place, warnings printed on their own lines', async () => {
    const io = captureIo({ tty: true });
    const code = await runCli(['import', tree.root, path.join(tmp.dir, 'tty.picpac')], io);
    assert.equal(code, 0);
    const err = io.err.join('');
    assert.match(err, /\r\x1b\[Kwarning: .*notes\.txt: not a recognised image; skipped\n/);
    assert.match(err, /\rimport {2}\[#{20}\] 32\/32 images .*2 skipped\x1b\[K\n$/);
  });

  test('progress: plain lines when stderr is not a TTY', async () => {
    const out = path.join(tmp.dir, 'progress.picpac');
    const r = await cli('import', path.join(tree.root, 'apple'), out);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^import +\[#{20}\] 10\/10 images +[\d.]+\/s/m);
    assert.doesNotMatch(r.stderr, /\r/);
  });
});
