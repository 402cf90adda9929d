// Issue 12 at the command line: items 1 (lock), 2 (resync), 3 (last commit), 8 (FIFO) and the
// engine/CLI messages of item 10 — each names the file, record and byte offset and what to do.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { cli, makeImage, repoRoot, tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

const record = (i: number) => ({ id: i, fields: [{ kind: 'bytes' as const, bytes: new Uint8Array(200).fill(i & 255) }], annotation: i % 2 ? `{"i":${i}}` : undefined });

async function makeFile(name: string, count: number): Promise<string> {
  const file = path.join(dir, name);
  const w = await PicpacWriter.create(file, { fsyncOnClose: false, overwrite: true });
  for (let i = 0; i < count; i++) void w.append(record(i));
  await w.close();
  return file;
}

async function flipped(file: string, name: string, at: (r: PicpacReader) => number): Promise<string> {
  const r = await PicpacReader.open(file);
  const offset = at(r);
  await r.close();
  const bytes = await readFile(file);
  bytes[offset] ^= 0x10;
  const out = path.join(dir, name);
  await writeFile(out, bytes);
  return out;
}

describe('a file being appended to (items 1, 3, 10)', () => {
  test('second writers and in-place repair get "locked by pid N"; stat and verify see the last commit', async () => {
    const file = await makeFile('busy.picpac', 5);
    const other = await makeFile('other.picpac', 2);
    const writer = await PicpacWriter.append(file, { bufferBytes: 0 });
    try {
      await writer.append(record(5)); // on disk, not committed
      const merge = await cli('merge', file, other, '--append');
      assert.equal(merge.code, 1, merge.stdout + merge.stderr);
      assert.match(merge.stderr, new RegExp(`busy\\.picpac is locked by pid ${process.pid}`));
      const repair = await cli('repair', file, file, '--overwrite');
      assert.equal(repair.code, 1, repair.stdout + repair.stderr);
      assert.match(repair.stderr, new RegExp(`locked by pid ${process.pid}`));
      const stat = await cli('stat', file, '--json');
      assert.equal(stat.code, 0, stat.stderr);
      assert.equal(JSON.parse(stat.stdout).recordCount, 5);
      assert.match(stat.stderr, new RegExp(`warning: .*busy\\.picpac: reading the last commit .*locked by pid ${process.pid}`));
      const verify = await cli('verify', file);
      assert.equal(verify.code, 1, verify.stdout);
      assert.doesNotMatch(verify.stdout, /repair/);
      assert.match(verify.stdout, new RegExp(`locked by pid ${process.pid}: a writer is appending`));
      const strict = await cli('stat', file, '--strict');
      assert.equal(strict.code, 1, strict.stdout);
    } finally {
      await writer.close();
    }
    assert.equal(JSON.parse((await cli('stat', file, '--json')).stdout).recordCount, 6);
  });

  test('stat on a file cut before its first commit says how to save the records', async () => {
    const file = await makeFile('cut.picpac', 5);
    await truncate(file, 700);
    const stat = await cli('stat', file);
    assert.equal(stat.code, 1);
    assert.match(stat.stderr, /cut\.picpac: footer: no committed data to read.*picpac repair FILE OUT/);
  });
});

describe('one flipped byte (items 2, 10)', () => {
  test('verify: a damaged index block is one problem and names no record; the records are intact', async () => {
    const file = await makeFile('index400.picpac', 400);
    const bad = await flipped(file, 'index-flip.picpac', (r) => r.indexOffset + 16 + 1000);
    const verify = await cli('verify', bad, '--all');
    assert.equal(verify.code, 1);
    assert.match(verify.stdout, /1 problem \(/);
    assert.doesNotMatch(verify.stdout, /record 400/);
    assert.match(verify.stdout, /an index block is damaged \(the records are intact/);
    const stat = await cli('stat', bad, '--json');
    assert.equal(JSON.parse(stat.stdout).recordCount, 400);
    assert.match(stat.stderr, /the index is damaged .*read 400 records by scanning/);
    const dump = await cli('dump', bad);
    assert.equal(dump.code, 0);
    assert.equal(dump.stdout.trim().split('\n').length, 400);
  });

  test('verify names the record of a damaged annotation frame', async () => {
    const file = await makeFile('ann.picpac', 20);
    const bad = await flipped(file, 'ann-flip.picpac', (r) => r.columns.annotationOffset[7] + 20);
    const verify = await cli('verify', bad);
    assert.match(verify.stdout, /1 problem/);
    assert.match(verify.stdout, /record 7 at byte \d+: frame: the annotation frame of record 7 is damaged/);
  });

  test('dump prints every record before a bad one, then says what to do; --recover and repair keep the rest', async () => {
    const file = await makeFile('big.picpac', 600);
    const bad = await flipped(file, 'rec-flip.picpac', (r) => r.columns.frameOffset[550] + 100);
    const dump = await cli('dump', bad);
    assert.equal(dump.code, 1);
    assert.equal(dump.stdout.trim().split('\n').length, 550);
    assert.match(dump.stderr, /rec-flip\.picpac: frame: frame payload CRC mismatch at byte \d+ \(record 550\).*550 records were dumped before it; `picpac dump .* --recover` skips damaged records/);
    const recovered = await cli('dump', bad, '--recover');
    assert.equal(recovered.code, 0);
    assert.equal(recovered.stdout.trim().split('\n').length, 599);
    assert.match(recovered.stderr, /dropped: record 550, bytes \d+\.\.\d+: damaged record frame/);
    const out = path.join(dir, 'fixed.picpac');
    const repair = await cli('repair', bad, out);
    assert.equal(repair.code, 0);
    assert.match(repair.stdout, /saved 599 records/);
    assert.match(repair.stdout, /dropped: record 550, bytes/);
    assert.equal((await cli('verify', out)).code, 0);
  });
});

describe('non-regular files are refused at once (item 8)', { skip: process.platform === 'win32' ? 'no mkfifo' : false, timeout: 30_000 }, () => {
  test('stat, dump, verify, repair and --append on a FIFO', async () => {
    const fifo = path.join(dir, 'fifo.picpac');
    execFileSync('mkfifo', [fifo]);
    const other = await makeFile('src.picpac', 1);
    for (const argv of [['stat', fifo], ['dump', fifo], ['verify', fifo], ['repair', fifo, path.join(dir, 'r.picpac')], ['merge', fifo, other, '--append'], ['stream', fifo, '-n', '1']]) {
      const r = await cli(...argv);
      assert.equal(r.code, 1, argv.join(' '));
      assert.match(r.stderr, /fifo\.picpac is a FIFO \(named pipe\), not a regular file/, argv.join(' '));
    }
  });
});

describe('Ctrl+C during import --append (item 3)', { timeout: 120_000 }, () => {
  test('SIGINT commits what the append wrote, says so, exits 130; the file opens strictly', async () => {
    const images = path.join(dir, 'many');
    for (let i = 0; i < 300; i++) await makeImage(path.join(images, `im-${String(i).padStart(3, '0')}.jpg`), { width: 64, height: 48, seed: i });
    const file = await makeFile('interrupted.picpac', 3);
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/picpac.js'), 'import', images, file, '--append', '--jobs', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Interrupt once the import has started writing (its progress line appears), or after 20 s.
    const deadline = Date.now() + 20_000;
    while (!/import\s+\[/.test(stderr) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await exited;
    const reader = await PicpacReader.open(file, { strict: true });
    const count = reader.recordCount;
    await reader.close();
    if (code === 130) {
      assert.match(stderr, /interrupted: .*interrupted\.picpac: committed \d+ records of this append; rerun with --append/);
      const committed = Number(/committed (\d+) records/.exec(stderr)![1]);
      assert.equal(count, 3 + committed);
    } else {
      assert.equal(code, 0, stderr); // finished before the signal arrived: everything committed
      assert.equal(count, 303);
    }
  });
});
