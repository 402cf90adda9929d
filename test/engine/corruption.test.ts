// STYLE §30: every golden vector truncated at every byte of its header, index and footer, and
// with bits flipped across the file: only PicpacError subclasses escape (strict, recover,
// verify), nothing hangs, and the same reader code still works afterwards.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { verifyStore } from '../../src/engine/picpac/verify.ts';
import { PicpacError } from '../../src/errors.ts';

const VECTORS = path.resolve(import.meta.dirname, '../vectors/v2');
const files = readdirSync(VECTORS).filter((f) => f.endsWith('.picpac'));

async function exercise(bytes: Uint8Array, recover: boolean): Promise<void> {
  try {
    const r = await PicpacReader.open(new MemorySource(bytes, 'x'), { recover, maxRecordBytes: 1 << 20 });
    for (let i = 0; i < r.recordCount; i++) {
      try {
        await r.get(i);
      } catch (err) {
        if (!(err instanceof PicpacError)) throw err;
      }
    }
    try {
      for await (const _ of r.scan()) {
        // drain
      }
    } catch (err) {
      if (!(err instanceof PicpacError)) throw err;
    }
  } catch (err) {
    if (!(err instanceof PicpacError)) throw err;
  }
}

describe('corruption of golden vectors [SEC-1]', () => {
  for (const name of files) {
    test(name, async () => {
      const bytes = new Uint8Array(readFileSync(path.join(VECTORS, name)));
      const cuts = new Set<number>();
      for (let k = 0; k <= Math.min(128, bytes.length); k++) cuts.add(k);
      let indexOffset = bytes.length - 64;
      try {
        indexOffset = (await PicpacReader.open(new MemorySource(bytes))).indexOffset;
      } catch {
        // unfinished or refused vectors: cut near the end only
      }
      for (let k = Math.max(0, indexOffset - 16); k < bytes.length; k++) cuts.add(k);
      for (const cut of cuts) {
        const part = bytes.subarray(0, cut);
        await exercise(part, false);
        await exercise(part, true);
      }
      let seed = 12345;
      const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
      for (let k = 0; k < 150; k++) {
        const damaged = bytes.slice();
        const at = Math.floor(rand() * damaged.length);
        damaged[at] ^= 1 << Math.floor(rand() * 8);
        await exercise(damaged, false);
        await exercise(damaged, true);
        const v = await verifyStore(new MemorySource(damaged));
        assert.equal(typeof v.ok, 'boolean');
      }
      // Still works afterwards.
      const clean = await verifyStore(new MemorySource(bytes));
      assert.equal(typeof clean.ok, 'boolean');
    });
  }
});
