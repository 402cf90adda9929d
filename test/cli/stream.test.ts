// picpac stream and picpac split-region: throughput report, --digest equal across thread
// counts, --dump PNGs, parameter errors as usage errors; region cutting into a new store.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { openStore } from '../../src/engine/open-store.ts';
import { parseAnnotation } from '../../src/augment/annotation.ts';
import { writeFixture } from '../augment/stream-fixtures.ts';
import { cli, tempDir } from './helpers.ts';
import { prestartStreamThreads, threadsArgument } from '../../src/cli/stream-prestart.ts';
import { spareWorkers } from '../../src/augment/stream/spare-workers.ts';

let dir: string;
let cleanup: () => Promise<void>;
let db: string;
before(async () => {
  ({ dir, cleanup } = await tempDir('picpac-cli-stream-'));
  db = await writeFixture(`${dir}/plates.picpac`, { count: 16, annotate: true });
});
after(() => cleanup());

const AUGMENT = ['--annotate', 'json', '--perturb', '1', '--pert_angle', '15', '--pert_hflip', '1', '--crop_width', '24', '--crop_height', '20', '--batch', '4'];

describe('picpac stream', () => {
  test('--threads N starts N workers before the command loads; spares left over are ended, also after a usage error', async () => {
    assert.equal(threadsArgument(['db', '--threads', '3']), 3);
    assert.equal(threadsArgument(['db', '--threads=2', '-n', '4']), 2);
    assert.equal(threadsArgument(['db', '--threads', 'x']), undefined);
    assert.equal(threadsArgument(['db', '--', '--threads', '2']), undefined);
    assert.equal(threadsArgument(['db']), undefined);
    const stop = prestartStreamThreads(['db', '--threads', '2']);
    assert.equal(spareWorkers().length, 2);
    await stop();
    assert.equal(spareWorkers().length, 0);
    prestartStreamThreads(['db', '--threads', '2', '--help']);
    assert.equal(spareWorkers().length, 0, 'no workers for --help');
    assert.equal(threadsArgument(['db', '--threads', '4', '--threads', '1']), 1, 'the last value, as the parser takes it');
    const ok = await cli('stream', db, '-n', '4', '--threads', '2');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(spareWorkers().length, 0, 'the stream took both');
    for (const argv of [[db, '--threads', '2', '--no-such-option'], [`${dir}/missing.picpac`, '--threads', '2']]) {
      const failed = await cli('stream', ...argv);
      assert.notEqual(failed.code, 0);
      assert.equal(spareWorkers().length, 0, argv.join(' '));
    }
  });

  test('prints images/s and MB/s, the position, and a digest equal for threads 0 and 2', async () => {
    const inline = await cli('stream', db, '-n', '40', '--threads', '0', '--digest', ...AUGMENT);
    assert.equal(inline.code, 0, inline.stderr);
    assert.match(inline.stdout, /^imageStream\(batch 4/);
    assert.match(inline.stdout, /40 samples in [\d.]+ s: \d+ images\/s, [\d.]+ MB\/s read, [\d.]+ MB\/s produced/);
    assert.match(inline.stdout, /position: epoch 2 offset 8/);
    const digest = /sha256 ([0-9a-f]{64})/.exec(inline.stdout)![1];
    const pooled = await cli('stream', db, '-n', '40', '--threads', '2', '--digest', ...AUGMENT);
    assert.equal(pooled.code, 0, pooled.stderr);
    assert.equal(/sha256 ([0-9a-f]{64})/.exec(pooled.stdout)![1], digest);
    const other = await cli('stream', db, '-n', '40', '--digest', '--seed', '7', ...AUGMENT);
    assert.notEqual(/sha256 ([0-9a-f]{64})/.exec(other.stdout)![1], digest);
  });

  test('--dump writes <k>.png and <k>.label.png of the augmented samples', async () => {
    const out = `${dir}/dump`;
    const result = await cli('stream', db, '-n', '6', '--dump', out, ...AUGMENT);
    assert.equal(result.code, 0, result.stderr);
    const names = (await readdir(out)).sort();
    assert.equal(names.filter((n) => n.endsWith('.label.png')).length, 6);
    assert.equal(names.filter((n) => /^\d+\.png$/.test(n)).length, 6);
    const meta = await sharp(`${out}/0.png`).metadata();
    assert.deepEqual([meta.width, meta.height, meta.channels], [24, 20, 3]);
    const label = await sharp(`${out}/0.label.png`).raw().toBuffer();
    assert.ok(label.some((v) => v === 255) && label.some((v) => v === 0), 'label stretched to 0/255');
  });

  test('a misspelt parameter is a usage error with a suggestion; a bad value names the parameter', async () => {
    const typo = await cli('stream', db, '--pert_angel', '3');
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /did you mean --pert_angle\?/);
    const bad = await cli('stream', db, '--batch', '0');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /for batch but received "0"/);
  });

  test('--on-error skip reports skipped records', async () => {
    const broken = await writeFixture(`${dir}/broken.picpac`, { count: 6, corrupt: [2] });
    const failed = await cli('stream', broken, '-n', '6', '--loop', '0', '--shuffle', '0');
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /record 2/);
    const skipped = await cli('stream', broken, '-n', '6', '--loop', '0', '--on-error', 'skip');
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stdout, /^5 samples/m);
    assert.match(skipped.stdout, /skipped 1 bad records/);
  });
});

describe('picpac split-region', () => {
  test('one record per shape with re-normalised shapes; prints the scale statistics', async () => {
    const out = `${dir}/regions.picpac`;
    const result = await cli('split-region', db, out, '--width', '20', '--height', '16', '--size', '8', '--bg', '9');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^16 regions of 20x16/);
    assert.match(result.stdout, /scale: min [\d.]+ mean [\d.]+ max [\d.]+/);
    const store = await openStore(out);
    try {
      assert.equal(store.recordCount, 16);
      const record = await store.get(0);
      assert.deepEqual([record.fields[0].type, record.fields[0].width, record.fields[0].height], ['image/jpeg', 20, 16]);
      const shapes = parseAnnotation(record.annotation!).shapes;
      assert.equal(shapes.length, 1);
      assert.equal(shapes[0].type, 'rect');
    } finally {
      await store.close();
    }
    const again = await cli('split-region', db, out, '--width', '20', '--height', '16');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /refusing to overwrite/);
    const missing = await cli('split-region', db, `${dir}/x.picpac`, '--width', '20');
    assert.equal(missing.code, 2);
  });
});
