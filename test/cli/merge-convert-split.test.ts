// picpac merge --relabel, convert v2 → v1 → v2, split K-fold.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openStore } from '../../src/engine/open-store.ts';
import { cli, makeImageTree, parseJsonLines, tempDir } from './helpers.ts';

type DumpRow = { index: number; id: number; label: number; label2: number; fields: Array<{ type: string; size: number; sha256: string }> };

async function dump(file: string): Promise<DumpRow[]> {
  const r = await cli('dump', file);
  assert.equal(r.code, 0, r.stderr);
  return parseJsonLines(r.stdout) as unknown as DumpRow[];
}

describe('picpac merge / convert / split', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let db: string;
  let annotated: string;

  before(async () => {
    tmp = await tempDir();
    const tree = await makeImageTree(path.join(tmp.dir, 'tree'));
    db = path.join(tmp.dir, 'tree.picpac');
    assert.equal((await cli('import', tree.root, db, '-q')).code, 0);
    const list = path.join(tmp.dir, 'anno.tsv');
    await writeFile(
      list,
      'tree/apple/a0.jpg\t{"shapes":[{"type":"point","geometry":{"x":0.5,"y":0.5}}]}\ntree/banana/b0.png\t2.5\ntree/cherry/c0.jpg\t{"shapes":[]}\n',
    );
    annotated = path.join(tmp.dir, 'anno.picpac');
    assert.equal((await cli('import', list, annotated, '-q')).code, 0);
  });
  after(() => tmp.cleanup());

  test('merge concatenates in argument order; --relabel gives input k label k', async () => {
    const out = path.join(tmp.dir, 'merged.picpac');
    const r = await cli('merge', out, annotated, db, '--relabel', '-q');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /merged 33 records from 2 inputs/);
    const rows = await dump(out);
    assert.equal(rows.length, 33);
    assert.deepEqual([...new Set(rows.slice(0, 3).map((x) => x.label))], [0]);
    assert.deepEqual([...new Set(rows.slice(3).map((x) => x.label))], [1]);
    const a = await dump(annotated);
    const b = await dump(db);
    assert.deepEqual(rows.map((x) => x.fields), [...a, ...b].map((x) => x.fields));
    const plain = path.join(tmp.dir, 'merged-plain.picpac');
    assert.equal((await cli('merge', plain, annotated, db, '-q')).code, 0);
    assert.deepEqual((await dump(plain)).map((x) => x.label), [...a, ...b].map((x) => x.label));
    assert.equal((await cli('merge', plain, annotated, '-q')).code, 1, 'refuses to overwrite');
  });

  test('convert v2 → v1 → v2 keeps everything; the v1 file lists the annotation as field 1', async () => {
    const v1 = path.join(tmp.dir, 'anno.db');
    const r = await cli('convert', annotated, v1, '-q');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /converted 3 records: .* \(picpac-2\) → .* \(picpac-1\)/);
    const back = path.join(tmp.dir, 'back.picpac');
    assert.equal((await cli('convert', v1, back, '-q')).code, 0);
    const original = await dump(annotated);
    assert.deepEqual(await dump(back), original);
    const asV1 = await dump(v1);
    assert.deepEqual(asV1[0].fields.map((f) => f.type), ['image/jpeg', 'annotation/json']);
    assert.deepEqual(asV1[0].fields, original[0].fields);
    assert.equal(asV1[1].label, 2.5);

    const bigV1 = path.join(tmp.dir, 'tree.db');
    assert.equal((await cli('convert', db, bigV1, '--to', 'v1', '-q')).code, 0);
    const bigBack = path.join(tmp.dir, 'tree-back.picpac');
    assert.equal((await cli('convert', bigV1, bigBack, '--align', '4096', '-q')).code, 0);
    assert.deepEqual(await dump(bigBack), await dump(db));
  });

  test('split K=5 fold=0 --stratify: disjoint, covering, stratified within 1 per label', async () => {
    const out = path.join(tmp.dir, 'folds.picpac');
    const r = await cli('split', db, out, '--split', '5', '--fold', '0', '--stratify', '--seed', '7');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^train: 25 records → .*folds\.train\.picpac {2}\(per label 0:10 1:8 2:7\)$/m);
    assert.match(r.stdout, /^test: 5 records → .*folds\.test\.picpac {2}\(per label 0:2 1:2 2:1\)$/m);
    const train = await dump(path.join(tmp.dir, 'folds.train.picpac'));
    const test_ = await dump(path.join(tmp.dir, 'folds.test.picpac'));
    const all = await dump(db);
    const key = (x: DumpRow): string => `${x.id}:${x.fields[0].sha256}`;
    const trainKeys = new Set(train.map(key));
    const testKeys = new Set(test_.map(key));
    assert.equal(trainKeys.size + testKeys.size, all.length);
    for (const k of testKeys) assert.equal(trainKeys.has(k), false, 'disjoint');
    assert.deepEqual(new Set([...trainKeys, ...testKeys]), new Set(all.map(key)));
    for (const label of [0, 1, 2]) {
      const n = all.filter((x) => x.label === label).length;
      const t = test_.filter((x) => x.label === label).length;
      assert.ok(Math.abs(t - n / 5) <= 1, `label ${label}: ${t} of ${n} in test`);
    }
    const same = await cli('split', db, out, '--split', '5', '--fold', '0', '--stratify', '--seed', '7', '--overwrite');
    assert.equal(same.stdout, r.stdout, 'deterministic for a seed');
    assert.equal((await cli('split', db, out)).code, 1, 'refuses to overwrite');
  });

  test('split: --fold out of range is a usage error', async () => {
    const r = await cli('split', db, path.join(tmp.dir, 'x'), '--split', '3', '--fold', '3');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid value for --fold: expected an integer in 0\.\.2, got '3'/);
    const store = await openStore(db);
    await store.close();
  });
});
