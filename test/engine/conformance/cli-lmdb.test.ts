// The CLI over LMDB stores: convert in all directions (raw → JPEG says it re-encoded, at which
// quality), and stat / dump / verify / openStore on an LMDB directory unchanged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openStore } from '../../../src/engine/open-store.ts';
import { PicpacWriter } from '../../../src/engine/picpac/picpac-writer.ts';
import { cli } from '../../cli/helpers.ts';
import { plainStored, tempDir } from '../helpers.ts';
import { makeTestImages } from './suite.ts';
import type { StoredRecord } from '../../../src/engine/store.ts';

let dir: string;
let cleanup: () => Promise<void>;
let source: string;

async function records(path: string): Promise<StoredRecord[]> {
  const store = await openStore(path);
  try {
    const out: StoredRecord[] = [];
    for await (const r of store.scan()) out.push({ ...r, fields: r.fields.map((f) => ({ ...f, bytes: f.bytes.slice() })) });
    return out;
  } finally {
    await store.close();
  }
}

before(async () => {
  ({ dir, cleanup } = await tempDir('picpac-cli-lmdb-'));
  const images = await makeTestImages(4);
  source = join(dir, 'source.picpac');
  const w = await PicpacWriter.create(source);
  for (const [i, image] of images.entries()) void w.append({ label: i, label2: 7, fields: [{ kind: 'image', bytes: image.jpeg }], ...(i % 2 ? { annotation: `{"shapes":[],"i":${i}}` } : {}) });
  await w.close();
});
after(() => cleanup());

describe('picpac CLI over LMDB', () => {
  test('convert v2 → lmdb-encoded → v2 and → v1 is exact; openStore opens the directory', async () => {
    const enc = join(dir, 'enc.lmdb');
    const r1 = await cli('convert', source, enc, '--to', 'lmdb-encoded', '-q');
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stdout, /converted 4 records: .* \(picpac-2\) → .* \(lmdb-encoded\)/);
    // Only the data-format note of a stock lmdb-js build (docs/lmdb.md), no re-encoding note.
    assert.doesNotMatch(r1.stdout.replace(/^note: written in LMDB 1\.0 data format.*\n/m, ''), /note:/);
    const back = join(dir, 'back.picpac');
    const r2 = await cli('convert', enc, back, '-q');
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /\(lmdb-encoded\) → .* \(picpac-2\)/);
    const expected = (await records(source)).map(plainStored);
    assert.deepEqual((await records(enc)).map(plainStored), expected);
    assert.deepEqual((await records(back)).map(plainStored), expected);
    const again = await cli('convert', source, enc, '--to', 'lmdb-encoded', '-q');
    assert.equal(again.code, 1, 'an existing output needs --overwrite');
    assert.match(again.stderr + again.stdout, /--overwrite/);
    assert.equal((await cli('convert', source, enc, '--to', 'lmdb-encoded', '-q', '--overwrite')).code, 0);
  });

  test('convert → lmdb-raw says it decoded; lmdb-raw → v1 says it re-encoded at the quality given', async () => {
    const raw = join(dir, 'raw.lmdb');
    const r1 = await cli('convert', source, raw, '--to', 'lmdb-raw', '-q');
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stdout, /note: decoded 4 image\(s\) to raw 3-channel uint8 pixels/);
    const v1 = join(dir, 'from-raw.db');
    const r2 = await cli('convert', raw, v1, '--to', 'v1', '--quality', '88', '-q');
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /note: re-encoded 4 raw image\(s\) as JPEG quality 88 \(lossy/);
    const got = await records(v1);
    const want = await records(source);
    assert.deepEqual(got.map((r) => [r.label, r.label2, r.annotation, r.width, r.height, r.fields[0].type]), want.map((r) => [r.label, r.label2, r.annotation, r.width, r.height, 'image/jpeg']));
    const bad = await cli('convert', raw, join(dir, 'x.picpac'), '--quality', '0', '-q');
    assert.equal(bad.code, 2);
  });

  test('stat, dump and verify work on an LMDB directory', async () => {
    const enc = join(dir, 'stat.lmdb');
    assert.equal((await cli('convert', source, enc, '--to', 'lmdb-encoded', '-q')).code, 0);
    const stat = await cli('stat', enc);
    assert.equal(stat.code, 0, stat.stderr);
    assert.match(stat.stdout, /format: lmdb-encoded/);
    assert.match(stat.stdout, /records: 4/);
    const dump = await cli('dump', enc);
    assert.equal(dump.code, 0, dump.stderr);
    assert.equal(dump.stdout.trim().split('\n').length, 4);
    const verify = await cli('verify', enc);
    assert.equal(verify.code, 0, verify.stdout);
    assert.match(verify.stdout, /OK: 4 records, .* \(LMDB: structure only/);
  });
});
