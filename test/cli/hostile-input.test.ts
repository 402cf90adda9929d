// Issue 12 items 5, 6 and the import/stream messages of item 10, through the CLI: a truncated
// JPEG, one with garbage after byte 700, a GIF, shapes outside the image, a 71 MB annotation
// line, `--split_fold -1`, `--min_size 65535`, and a progress bar that counts acknowledged
// records.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { openStore } from '../../src/engine/open-store.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { ImageStream } from '../../src/augment/stream/stream.ts';
import { IncompleteImageError } from '../../src/augment/pixels/image-complete.ts';
import { AppendQueue } from '../../src/cli/store-output.ts';
import { cli, tempDir } from './helpers.ts';

async function noisyJpeg(seed: number): Promise<Uint8Array> {
  const width = 96;
  const height = 64;
  const raw = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    raw[i] = ((i % 97) * 2 + (s >>> 27)) & 0xff;
  }
  return new Uint8Array(await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
}

function garbageAfter(bytes: Uint8Array, from: number): Uint8Array {
  const out = bytes.slice();
  let s = 12345;
  for (let i = from; i < out.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const SHAPE_OK = { type: 'rect', geometry: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 } };
const SHAPE_OUT = { type: 'rect', geometry: { x: 1.5, y: 0, width: 2, height: 0.5 } }; // the issue's shape

describe('hostile input through the CLI', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let dir: string;
  before(async () => {
    tmp = await tempDir('picpac-hostile-');
    dir = path.join(tmp.dir, 'images');
    await mkdir(dir);
    const good = await noisyJpeg(1);
    await writeFile(path.join(dir, 'a-good.jpg'), good);
    await writeFile(path.join(dir, 'b-truncated.jpg'), good.subarray(0, 700));
    await writeFile(path.join(dir, 'c-garbage.jpg'), garbageAfter(await noisyJpeg(2), 700));
    await writeFile(path.join(dir, 'd-anim.gif'), await sharp(good).gif().toBuffer());
    const padded = new Uint8Array(good.length + 64);
    padded.set(good);
    await writeFile(path.join(dir, 'e-padded.jpg'), padded);
  });
  after(() => tmp.cleanup());

  test('import skips the truncated JPEG and the one with garbage after byte 700, converts the GIF, keeps padding; summary counts them', async () => {
    const out = path.join(tmp.dir, 'checked.picpac');
    const r = await cli('import', dir, out, '-q');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*b-truncated\.jpg: JPEG data ends at byte 700 before the end-of-image marker \(truncated file\?\); skipped/);
    assert.match(r.stderr, /warning: .*c-garbage\.jpg: JPEG: .*\(damaged data\?\); skipped/);
    assert.match(r.stdout, /imported 3 records into .* \(2 skipped, 1 converted to PNG\)/);
    const store = await openStore(out);
    try {
      const types = [];
      for (let i = 0; i < store.recordCount; i++) types.push((await store.get(i)).fields[0].type);
      assert.deepEqual(types, ['image/jpeg', 'image/png', 'image/jpeg']);
    } finally {
      await store.close();
    }
    // The converted GIF streams (the stream has no GIF decoder on its fast path).
    const stream = await ImageStream.open(out, { loop: false, shuffle: false });
    try {
      let n = 0;
      for (let b = await stream.next(); b !== null; b = await stream.next()) n += b.count;
      assert.equal(n, 3);
    } finally {
      await stream.close();
    }
  });

  test('--strict stops at the truncated JPEG; --check decode agrees; --no-check stores everything', async () => {
    const strict = await cli('import', dir, path.join(tmp.dir, 'strict.picpac'), '-q', '--strict');
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /b-truncated\.jpg: JPEG data ends at byte 700 .*\(stopped by --strict\)/);
    const decode = await cli('import', dir, path.join(tmp.dir, 'decode.picpac'), '-q', '--check', 'decode');
    assert.match(decode.stdout, /imported 3 records .*\(2 skipped, 1 converted to PNG\)/);
    const unchecked = path.join(tmp.dir, 'unchecked.picpac');
    const none = await cli('import', dir, unchecked, '-q', '--no-check');
    assert.match(none.stdout, /imported 5 records .*\(0 skipped\)/);
    const both = await cli('import', dir, path.join(tmp.dir, 'x.picpac'), '--check', 'decode', '--no-check');
    assert.equal(both.code, 2);
  });

  test('verify flags stored images that are truncated or damaged; the stream refuses them with a typed error under onError throw', async () => {
    const unchecked = path.join(tmp.dir, 'unchecked.picpac');
    const v = await cli('verify', unchecked, '--all');
    assert.equal(v.code, 1);
    assert.match(v.stdout, /FAILED: .*: 2 stored images are truncated or damaged/);
    assert.match(v.stdout, /record 1 at byte \d+, field 0: JPEG data ends at byte 700/);
    assert.match(v.stdout, /record 2 at byte \d+, field 0: JPEG: /);
    assert.equal((await cli('verify', unchecked, '--no-image-check')).code, 0);
    const stream = await ImageStream.open(unchecked, { loop: false, shuffle: false });
    try {
      assert.equal((await stream.next())!.count, 1);
      await assert.rejects(stream.next(), (error: unknown) => {
        const cause = (error as { cause?: unknown }).cause ?? error;
        assert.match((error as Error).message, /record 1: image: JPEG data ends at byte 700 before the end-of-image marker \(truncated file\?\); the image would decode with missing rows at byte 700 \(record 1\)/);
        return error instanceof Error && (cause instanceof IncompleteImageError || /IncompleteImageError/.test(JSON.stringify(error)) || /missing rows/.test((error as Error).message));
      });
    } finally {
      await stream.close();
    }
    const skipping = await ImageStream.open(unchecked, { loop: false, shuffle: false }, { onError: 'skip' });
    try {
      let n = 0;
      for (let b = await skipping.next(); b !== null; b = await skipping.next()) n += b.count;
      assert.equal(n, 3);
      assert.equal(skipping.skipped, 2);
    } finally {
      await skipping.close();
    }
  });

  test('shapes outside the image are dropped and counted by line; --strict stops; stat reports them in an unchecked file', async () => {
    const good = path.join(dir, 'a-good.jpg');
    const list = path.join(tmp.dir, 'shapes.tsv');
    await writeFile(list, [
      `${good}\t${JSON.stringify({ shapes: [SHAPE_OK, SHAPE_OUT], note: 'kept' })}`,
      `${good}\t${JSON.stringify({ shapes: [SHAPE_OK] })}`,
      `${good}\t${JSON.stringify({ shapes: [{ type: 'point', geometry: { x: 0.5, y: 1e308 } }] })}`,
    ].join('\n') + '\n');
    const out = path.join(tmp.dir, 'shapes.picpac');
    const r = await cli('import', list, out, '-q');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /shapes\.tsv: line 1 \(.*a-good\.jpg\): shapes\[1\]\.geometry: x must be a fraction in \[0, 1\], got 1\.5; shape dropped/);
    assert.match(r.stderr, /shapes\.tsv: line 3 \(.*\): shapes\[0\]\.geometry: y must be a fraction in \[0, 1\], got 1e\+308; shape dropped/);
    assert.match(r.stdout, /imported 3 records .*2 shapes out of range dropped on 2 inputs/);
    const store = await openStore(out);
    try {
      assert.deepEqual(JSON.parse((await store.get(0)).annotation!), { shapes: [SHAPE_OK], note: 'kept' });
      assert.equal((await store.get(1)).annotation, JSON.stringify({ shapes: [SHAPE_OK] }));
    } finally {
      await store.close();
    }
    const strict = await cli('import', list, path.join(tmp.dir, 'shapes-strict.picpac'), '-q', '--strict');
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /line 1 .*shapes\[1\]\.geometry: x must be a fraction .*\(stopped by --strict\)/);
    // A file written without these checks (another writer, an older picpac): stat counts the shapes.
    const raw = path.join(tmp.dir, 'raw.picpac');
    const writer = await PicpacWriter.create(raw, { fsyncOnClose: false });
    await writer.append({ label: 0, fields: [{ kind: 'image', bytes: new Uint8Array(await readFile(good)) }], annotation: JSON.stringify({ shapes: [SHAPE_OK, SHAPE_OUT] }) });
    await writer.close();
    const stat = await cli('stat', raw, '--json');
    const report = JSON.parse(stat.stdout);
    assert.equal(report.annotations.invalidShapes, 1);
    assert.match(report.annotations.firstInvalidShape, /^record 0 shapes\[1\]\.geometry: x must be a fraction in \[0, 1\], got 1\.5$/);
    assert.match((await cli('stat', raw)).stdout, /1 shapes out of range in 1 records \(first: record 0 shapes\[1\]/);
  });

  test('a 71 MB annotation line is skipped naming its line; the import goes on', { timeout: 120_000 }, async () => {
    const good = path.join(dir, 'a-good.jpg');
    // 71 MB of annotation (one long string keeps the test cheap; the size is what matters).
    const huge = JSON.stringify({ shapes: [SHAPE_OK], note: 'x'.repeat(71_000_000) });
    assert.ok(huge.length > 71e6);
    const list = path.join(tmp.dir, 'huge.tsv');
    await writeFile(list, `${good}\t1\n${good}\t${huge}\n${good}\t2\n`);
    const r = await cli('import', list, path.join(tmp.dir, 'huge.picpac'), '-q');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /huge\.tsv: line 2 \(.*a-good\.jpg\): annotation is \d+\.\d MB, more than the 67108848 bytes one annotation frame holds; skipped/);
    assert.match(r.stdout, /imported 2 records .*\(1 skipped\)/);
  });

  test('the progress count follows acknowledged appends, not queued ones', async () => {
    let acknowledge: (() => void) | undefined;
    const writer = {
      append: () => new Promise<number>((resolve) => { acknowledge = () => resolve(0); }),
    } as unknown as ConstructorParameters<typeof AppendQueue>[0];
    let acknowledged = 0;
    const queue = new AppendQueue(writer, 10, () => acknowledged++);
    await queue.add({ fields: [] });
    assert.equal(queue.count, 1);
    assert.equal(acknowledged, 0);
    acknowledge!();
    await queue.drain();
    assert.equal(acknowledged, 1);
  });

  test('--split_fold -1 is a value, not an "ambiguous" option; --min_size 65535 is a usage error naming min_size', async () => {
    const db = path.join(tmp.dir, 'checked.picpac');
    const fold = await cli('stream', db, '-n', '1', '--split', '3', '--split_fold', '-1', '--split_keys', '0,1,2');
    assert.equal(fold.code, 0, fold.stderr);
    const keysMissing = await cli('stream', db, '-n', '1', '--split', '3', '--split_fold', '-1');
    assert.equal(keysMissing.code, 2);
    assert.match(keysMissing.stderr, /for split_keys/);
    assert.doesNotMatch(keysMissing.stderr, /ambiguous/);
    const min = await cli('stream', db, '-n', '1', '--min_size', '65535');
    assert.equal(min.code, 2);
    assert.match(min.stderr, /picpac stream: min_size 65535: one sample needs [\d.]+ GiB \(the largest stored image, 96×64, becomes 98302×65535\), more than the stream's memory budget memory_bytes = 4\.0 GiB; lower min_size or raise memory_bytes/);
  });
});
