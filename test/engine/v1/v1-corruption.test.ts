// Corruption in the normal run (STYLE §30): truncate a small 1.0 file at every byte of its
// segment header (and every 7th byte of its records), flip bits in headers and record heads.
// Strict and recovering opens, and reading every record after them, may only throw
// PicpacError subclasses: never a RangeError from DataView, a hang or a giant allocation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemorySource } from '../../../src/engine/sources/byte-source.ts';
import { V1Reader } from '../../../src/engine/v1/v1-reader.ts';
import { PicpacError } from '../../../src/errors.ts';
import { repoVectors } from './v1-vectors.ts';

/** Open (strict or recover) and read everything; only PicpacErrors may escape. */
async function exercise(bytes: Uint8Array, recover: boolean): Promise<'ok' | 'error'> {
  try {
    const reader = await V1Reader.open(new MemorySource(bytes, 'corrupt.db'), { recover });
    for (let i = 0; i < reader.recordCount; i++) {
      reader.meta(i);
      await reader.get(i);
      await reader.getAnnotation(i);
    }
    let scanned = 0;
    for await (const _ of reader.scan({ chunkBytes: 5000 })) scanned++;
    assert.equal(scanned, reader.recordCount);
    return 'ok';
  } catch (err) {
    if (err instanceof PicpacError) return 'error';
    throw err;
  }
}

// Two small golden files: the compact crash file (a closed segment, then an unclosed one) for
// bit flips, and v1-anno.db (aligned, JPEG + JSON) for truncation.
const source = new Uint8Array(readFileSync(join(repoVectors, 'crash-compact-small.db')));
const anno = new Uint8Array(readFileSync(join(repoVectors, 'v1-anno.db')));

test('truncation at every byte of the segment header and through the records', async () => {
  const recordsEnd = 8192 + 4096 * 6; // the first six records are enough
  const cuts: number[] = [];
  for (let cut = 0; cut <= 8192 + 64; cut++) cuts.push(cut);
  for (let cut = 8192 + 64; cut < recordsEnd; cut += 7) cuts.push(cut);
  let recovered = 0;
  for (const cut of cuts) {
    const bytes = anno.subarray(0, cut);
    assert.equal(await exercise(bytes, false), 'error', `strict open of a file cut at ${cut} must fail`);
    assert.equal(await exercise(bytes, true), 'ok', `recover must read a file cut at ${cut}`);
    recovered++;
  }
  assert.equal(recovered, cuts.length);
});

test('recover of a cut file returns exactly the records that are whole', async () => {
  for (const records of [0, 1, 5, 39]) {
    const cut = 8192 + 4096 * records + 100; // inside record `records`
    const reader = await V1Reader.open(new MemorySource(anno.subarray(0, cut)), { recover: true });
    assert.equal(reader.recordCount, records);
  }
});

test('bit flips in segment headers and record heads (seeded)', async () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  // Header bytes that matter (fixed part, first sizes/groups), the first record heads, and the
  // second (unclosed) segment's header.
  const secondHeader = 89360;
  const targets = (): number => {
    switch (rand(4)) {
      case 0: return rand(64);
      case 1: return 32 + rand(64);
      case 2: return 8192 + rand(80 * 20);
      default: return secondHeader + rand(64);
    }
  };
  const outcomes = { ok: 0, error: 0 };
  for (let i = 0; i < 400; i++) {
    const bytes = source.slice();
    for (let k = 1 + rand(3); k > 0; k--) bytes[targets()] ^= 1 << rand(8);
    outcomes[await exercise(bytes, false)]++;
    assert.equal(await exercise(bytes, true), 'ok', 'recover never throws on these files');
  }
  assert.ok(outcomes.error > 0, 'some flips are detected');
});
