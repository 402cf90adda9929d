// picpac verify (exit 0 / exit 1 naming record and offset), repair of a truncated file, and
// dump --recover.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openStore } from '../../src/engine/open-store.ts';
import type { RecordMeta } from '../../src/engine/store.ts';
import { cli, makeImageTree, parseJsonLines, tempDir } from './helpers.ts';

async function metas(file: string): Promise<RecordMeta[]> {
  const store = await openStore(file);
  try {
    return Array.from({ length: store.recordCount }, (_, i) => store.meta(i));
  } finally {
    await store.close();
  }
}

describe('picpac verify / repair', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let db: string;

  before(async () => {
    tmp = await tempDir();
    const tree = await makeImageTree(path.join(tmp.dir, 'tree'));
    db = path.join(tmp.dir, 'good.picpac');
    assert.equal((await cli('import', tree.root, db, '-q')).code, 0);
  });
  after(() => tmp.cleanup());

  test('verify: a valid file exits 0 with the record and byte counts', async () => {
    const r = await cli('verify', db);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^OK: 30 records, \d+ bytes checked$/m);
  });

  test('verify: a flipped byte inside a record exits 1 naming the record index and offset', async () => {
    const bad = path.join(tmp.dir, 'flipped.picpac');
    await copyFile(db, bad);
    const m = await metas(db);
    const k = 17;
    const bytes = await readFile(bad);
    const at = m[k].byteOffset + m[k].byteLength - 5; // inside the field bytes
    bytes[at] ^= 0x40;
    await writeFile(bad, bytes);
    const r = await cli('verify', bad);
    assert.equal(r.code, 1);
    const match = /record (\d+) at byte (\d+)/.exec(r.stdout);
    assert.ok(match, r.stdout);
    assert.equal(Number(match[1]), k);
    const offset = Number(match[2]);
    assert.ok(offset >= m[k].byteOffset && offset <= at, `offset ${offset} within record ${k}`);
    assert.match(r.stdout, /^FAILED: /m);
    const all = await cli('verify', bad, '--all');
    assert.equal(all.code, 1);
    assert.match(all.stdout, new RegExp(`record ${k} at byte`));
  });

  test('repair: a truncated file keeps every complete record; dump --recover agrees', async () => {
    const torn = path.join(tmp.dir, 'torn.picpac');
    await copyFile(db, torn);
    const m = await metas(db);
    const k = 21;
    await truncate(torn, m[k].byteOffset + 30); // cut in the middle of record k
    const strict = await cli('stat', torn);
    assert.equal(strict.code, 1, 'an unfinished file is invalid data without recovery');
    assert.doesNotMatch(strict.stderr, /\n\s+at /);

    const fixed = path.join(tmp.dir, 'fixed.picpac');
    const r = await cli('repair', torn, fixed);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^saved ${k} records to `, 'm'));
    assert.match(r.stdout, new RegExp(`^dropped: bytes ${m[k].byteOffset}\\.\\.${m[k].byteOffset + 30} `, 'm'));
    assert.equal((await cli('verify', fixed)).code, 0);
    const original = parseJsonLines((await cli('dump', db)).stdout);
    const repaired = parseJsonLines((await cli('dump', fixed)).stdout);
    assert.deepEqual(repaired, original.slice(0, k));

    const recovered = await cli('dump', torn, '--recover');
    assert.equal(recovered.code, 0, recovered.stderr);
    assert.deepEqual(parseJsonLines(recovered.stdout), original.slice(0, k));
    assert.match(recovered.stderr, new RegExp(`recovered ${k} records; torn tail at byte ${m[k].byteOffset}`));

    const again = await cli('repair', torn, fixed);
    assert.equal(again.code, 1, 'refuses to overwrite');
    assert.equal((await stat(fixed)).size > 0, true);
  });

  test('repair says whether the input was intact or its writer stopped before committing', async () => {
    const intact = await cli('repair', db, path.join(tmp.dir, 'intact-copy.picpac'));
    assert.equal(intact.code, 0, intact.stderr);
    assert.match(intact.stdout, /^dropped: nothing \(the file was intact\)$/m);
    // Cut exactly before record k's frame: records 0..k-1 whole, no index or footer after them.
    const unfinished = path.join(tmp.dir, 'unfinished.picpac');
    await copyFile(db, unfinished);
    const k = 12;
    await truncate(unfinished, (await metas(db))[k].byteOffset);
    const r = await cli('repair', unfinished, path.join(tmp.dir, 'unfinished-fixed.picpac'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^saved ${k} records to `, 'm'));
    assert.match(r.stdout, /^dropped: nothing \(the writer had not finished the file, but every record was intact\)$/m);
  });

  test('repair keeps the input\'s alignment and can convert with --to', async () => {
    const aligned = path.join(tmp.dir, 'aligned.picpac');
    assert.equal((await cli('convert', db, aligned, '--to', 'v2', '--align', '4096', '-q')).code, 0);
    const fixed = path.join(tmp.dir, 'aligned-fixed.picpac');
    assert.equal((await cli('repair', aligned, fixed)).code, 0);
    for (const meta of await metas(fixed)) assert.equal(meta.byteOffset % 4096, 0);
    const v1 = path.join(tmp.dir, 'fixed.db');
    const r = await cli('repair', db, v1, '--to', 'v1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dropped: nothing/);
    const store = await openStore(v1);
    assert.equal(store.format, 'picpac-1');
    assert.equal(store.recordCount, 30);
    await store.close();
  });
});
