// `import 'picpac'` loads no native addon a program may never use: sharp (libvips) and lmdb
// (with msgpackr's addon) load on first use — an encode, an LMDB store. Checked on the built
// package in plain Node, by the shared objects the process has mapped (Node's diagnostic report).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, repoRoot } from '../../scripts/ensure-built.ts';

ensureBuilt();

const ADDONS = /sharp|vips|lmdb|msgpackr/;

/** The addons (by path under node_modules) a plain-Node process has loaded after running `body` (an ES module). */
function addonsAfter(body: string): string[] {
  const entry = pathToFileURL(path.join(repoRoot, 'dist/node.js')).href;
  const script = `const picpac = await import(${JSON.stringify(entry)});\n${body}\n`
    + `const loaded = process.report.getReport().sharedObjects.filter((p) => ${ADDONS}.test(p)).map((p) => p.slice(p.lastIndexOf('node_modules/') + 13));\n`
    + 'console.log(JSON.stringify(loaded));';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return JSON.parse(out.trim().split('\n').pop()!) as string[];
}

test('importing the package loads neither sharp nor lmdb', () => {
  assert.deepEqual(addonsAfter(''), []);
});

test('an LMDB store loads lmdb when it is opened; an encode loads sharp when it runs', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'picpac-lazy-'));
  try {
    const store = path.join(dir, 'a.lmdb');
    const lmdb = addonsAfter(`const w = await picpac.LmdbWriter.create(${JSON.stringify(store)}, { mode: 'encoded', noSync: true }); await w.close();`);
    assert.ok(lmdb.some((name) => /lmdb/.test(name)), `lmdb's addon after an LMDB open: ${lmdb.join(', ')}`);
    assert.ok(!lmdb.some((name) => /sharp|vips/.test(name)), `no sharp for LMDB: ${lmdb.join(', ')}`);
    const sharpModule = pathToFileURL(path.join(repoRoot, 'dist/augment/pixels/sharp-module.js')).href;
    const sharp = addonsAfter(`const { loadSharp } = await import(${JSON.stringify(sharpModule)}); await (await loadSharp())({ create: { width: 2, height: 2, channels: 3, background: 'red' } }).png().toBuffer();`);
    assert.ok(sharp.some((name) => /sharp|vips/.test(name)), `sharp's addon after an encode: ${sharp.join(', ')}`);
    assert.ok(!sharp.some((name) => /lmdb/.test(name)), `no lmdb for an encode: ${sharp.join(', ')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
