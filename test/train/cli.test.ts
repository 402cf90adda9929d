// `picpac rf` output (templates, model.json files, workspaces, --db comparison, --json) and the
// usage errors of `picpac rf` and `picpac train`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { compareWithObjects } from '../../src/train/object-sizes.ts';
import type { RfResult } from '../../src/train/receptive-field.ts';
import { makeTinyDb, tempDir } from './helpers.ts';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

let tmp: { dir: string; cleanup: () => Promise<void> };
let db: string;

describe('picpac rf', () => {
  before(async () => {
    tmp = await tempDir();
    db = await makeTinyDb(tmp.dir, { count: 8, size: 64 });
  });
  after(async () => tmp.cleanup());

  test('a template: the table and 95 px at stride 16 for fcn', async () => {
    const r = await cli('rf', 'fcn');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'template fcn, input 256×256');
    assert.match(lines[1], /^layer +type +kernel +stride +dilation +output +jump +rf$/);
    assert.match(r.stdout, /^conv1 +Conv2D +5 +2 +1 +128×128 +2 +5$/m);
    assert.match(r.stdout, /^pool2 +MaxPooling2D +2 +2 +1 +16×16 +16 +31$/m);
    assert.match(r.stdout, /^receptive field of the narrowest layer \(score, \*\): 95 px at stride 16$/m);
  });

  test('--db compares with the annotated object sizes; --json', async () => {
    const r = await cli('rf', 'fcn-tiny', '--size', '64', '--db', db);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /objects: \d+, long side at 64×64 input: min \d+, median \d+/);
    assert.match(r.stdout, /receptive field 78 px covers the median object/);
    const small = await cli('rf', 'fcn-tiny', '--size', '1024', '--db', db);
    assert.match(small.stdout, /warning: receptive field 78 px is smaller than the median object/);
    const json = JSON.parse((await cli('rf', 'fcn', '--json')).stdout);
    assert.deepEqual([json.narrowest, json.rf, json.jump, json.inputSize], ['score', [95, 95], [16, 16], 256]);
  });

  test('far too large a receptive field warns', () => {
    const result = { rf: [400, 400], jump: [16, 16], narrowest: 'x', rows: [], warnings: [] } as unknown as RfResult;
    const lines = compareWithObjects(result, [10, 11, 12, 13], 128);
    assert.match(lines[1], /more than 8× the 90th-percentile object/);
    assert.deepEqual(compareWithObjects(result, [], 128), ['no annotated objects in the database']);
  });

  test('a model.json file (topology only) and a directory holding one', async () => {
    const file = path.join(tmp.dir, 'model.json');
    await writeFile(file, JSON.stringify({ modelTopology: { class_name: 'Sequential', config: { name: 'm', layers: [
      { class_name: 'Conv2D', config: { name: 'c', kernel_size: [7, 7], strides: [2, 2], padding: 'same', batch_input_shape: [null, 100, 100, 3] } },
      { class_name: 'MaxPooling2D', config: { name: 'p', pool_size: [3, 3], strides: [2, 2], padding: 'same' } },
    ] } } }));
    for (const target of [file, tmp.dir]) {
      const r = await cli('rf', target);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /input 100×100/);
      assert.match(r.stdout, /^p \* +MaxPooling2D +3 +2 +1 +25×25 +4 +11$/m);
      assert.match(r.stdout, /11 px at stride 4/);
    }
  });

  test('usage errors', async () => {
    const unknown = await cli('rf', 'resnet-9000');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /neither a template \(fcn, fcn-tiny\) nor a file/);
    assert.equal((await cli('rf')).code, 2);
    assert.equal((await cli('rf', 'fcn', '--size', 'x')).code, 2);
    const train = await cli('train', 'vgg', db, path.join(tmp.dir, 'ws'));
    assert.equal(train.code, 2);
    assert.match(train.stderr, /unknown template 'vgg'/);
    assert.equal((await cli('train', 'resume')).code, 2);
    assert.equal((await cli('train', 'fcn-tiny', db, path.join(tmp.dir, 'ws'), '--split_fold', '1')).code, 2);
    const missing = await cli('train', 'resume', path.join(tmp.dir, 'nope'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not a training workspace/);
  });
});
