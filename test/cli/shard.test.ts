// picpac shard / import --shard-size on local folders: numbered shards + manifest (SPEC §16),
// ids kept across shards, the manifest streamed as one dataset, refusals.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseShardManifest } from '../../src/engine/sources/shards.ts';
import { cli, makeImageTree, tempDir } from './helpers.ts';

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let local = '';

before(async () => {
  ({ dir, cleanup } = await tempDir('picpac-shard-'));
  await makeImageTree(path.join(dir, 'tree'));
  local = path.join(dir, 'tree.picpac');
  assert.equal((await cli('import', path.join(dir, 'tree'), local, '-q')).code, 0);
});
after(() => cleanup());

const body = async (db: string) => (await cli('dump', db)).stdout.split('\n').filter((l) => !l.includes(db)).join('\n');

test('shard: numbered shards of at most about SIZE, a manifest, the same records and ids', async () => {
  const out = path.join(dir, 'shards');
  const r = await cli('shard', local, out + '/', '--shard-size', '64KB', '-q');
  assert.equal(r.code, 0, r.stderr);
  const names = (await readdir(out)).sort();
  assert.ok(names.includes('index.picpac.json'));
  const manifest = parseShardManifest(await readFile(path.join(out, 'index.picpac.json'), 'utf8'), 'm');
  assert.ok(manifest.shards.length >= 2);
  assert.deepEqual(manifest.shards.map((s) => s.path), manifest.shards.map((_, i) => `part-${String(i).padStart(5, '0')}.picpac`));
  assert.equal(manifest.shards.reduce((n, s) => n + s.recordCount, 0), 30);
  // Every shard but the last stays near the size (one record may not be split).
  for (const s of manifest.shards.slice(0, -1)) assert.ok(s.byteLength < 64e3 + 40e3, `${s.path}: ${s.byteLength} bytes`);
  assert.equal(await body(path.join(out, 'index.picpac.json')), await body(local));
  // Refuses an existing manifest without --overwrite.
  const again = await cli('shard', local, out, '--shard-size', '64KB', '-q');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /refusing to overwrite existing file .*index\.picpac\.json/);
  assert.equal((await cli('shard', local, out, '--shard-size', '64KB', '-q', '--overwrite')).code, 0);
});

test('import --shard-size: ids run across shards; the stream reads the manifest as one dataset', async () => {
  const manifest = path.join(dir, 'imported', 'tree.picpac.json');
  const r = await cli('import', path.join(dir, 'tree'), manifest, '--shard-size', '80KB', '-q');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /imported 30 records into .*tree\.picpac\.json/);
  assert.ok(JSON.parse(await readFile(path.join(dir, 'imported', 'tree.classes.json'), 'utf8')).apple === 0);
  assert.equal(await body(manifest), await body(local));
  const params = ['--loop', '0', '-n', '100', '--digest', '--split', '3', '--split_fold', '2', '--stratify', '1', '--resize_width', '16', '--resize_height', '16'];
  const a = await cli('stream', manifest, ...params);
  const b = await cli('stream', local, ...params);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(/sha256 \w+/.exec(a.stdout)?.[0], /sha256 \w+/.exec(b.stdout)?.[0]);
});

test('stream --print-ids: one id per line, the summary on stderr; ranks split an epoch', async () => {
  const ids = async (...extra: string[]) => {
    const r = await cli('stream', local, '--loop', '0', '-n', '1000', '--print-ids', '--resize_width', '16', '--resize_height', '16', ...extra);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /samples in/);
    return r.stdout.trim().split('\n').map(Number);
  };
  const all = await ids();
  assert.deepEqual([...all].sort((x, y) => x - y), Array.from({ length: 30 }, (_, i) => i));
  const parts = [await ids('--rank', '0', '--world_size', '3'), await ids('--rank', '1', '--world_size', '3'), await ids('--rank', '2', '--world_size', '3')];
  assert.deepEqual(parts.map((p) => p.length), [10, 10, 10]);
  assert.deepEqual(parts.flat().sort((x, y) => x - y), Array.from({ length: 30 }, (_, i) => i));
});

test('bad sizes and combinations are usage errors (exit 2)', async () => {
  for (const args of [
    ['shard', local, path.join(dir, 'x')],
    ['shard', local, path.join(dir, 'x'), '--shard-size', 'big'],
    ['shard', local, path.join(dir, 'x'), '--shard-size', '1KB'],
    ['import', path.join(dir, 'tree'), path.join(dir, 'y'), '--shard-size', '1MB', '--append'],
    ['stream', local, '--cache-limit', '1GB'],
  ]) {
    const r = await cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  const r = await cli('stream', local, '-n', '1', '--print-ids');
  assert.equal(r.code, 0);
});
