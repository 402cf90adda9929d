// Properties of splits and rank partitioning, end to end through ImageStream (the sampler's own
// property tests cover the order engine; these check that batches carry exactly that order).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { ImageStream } from '../../src/augment/stream/stream.ts';
import { tempDir, writeFixture } from './stream-fixtures.ts';

const RECORDS = 11;
let db: string;
let cleanup: () => Promise<void>;
before(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  db = await writeFixture(`${t.dir}/tiny.picpac`, { count: RECORDS, width: 8, height: 8, label: (i) => i % 2 });
});
after(() => cleanup());

async function records(config: Record<string, unknown>): Promise<number[]> {
  const stream = await ImageStream.open(db, { ...config, loop: false, threads: 0 });
  const out: number[] = [];
  try {
    for (let b = await stream.next(); b !== null; b = await stream.next()) out.push(...b.recordIndices.subarray(0, b.count));
  } finally {
    await stream.close();
  }
  return out;
}

test('K-fold sides are disjoint and cover the store; ranks split each side evenly and cover it', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }), // world_size
      fc.integer({ min: 2, max: 4 }), // split
      fc.nat(3), // fold (mod split)
      fc.boolean(), // stratify
      fc.integer({ min: 1, max: 3 }), // batch
      fc.integer({ min: 0, max: 1000 }), // seed
      async (worldSize, split, foldSeed, stratify, batch, seed) => {
        const fold = foldSeed % split;
        const base = { split, split_fold: fold, stratify, batch, seed, world_size: worldSize };
        const sides: number[][] = [];
        for (const negate of [false, true]) {
          const perRank: number[][] = [];
          for (let rank = 0; rank < worldSize; rank++) perRank.push(await records({ ...base, split_negate: negate, rank }));
          const all = perRank.flat();
          const distinct = [...new Set(all)];
          // Equal shares: ⌈S / W⌉ each; the only repeats are the wrap-around ones (< W).
          for (const share of perRank) assert.equal(share.length, Math.ceil(distinct.length / worldSize));
          assert.equal(all.length - distinct.length, perRank[0].length * worldSize - distinct.length);
          assert.ok(all.length - distinct.length < worldSize);
          sides.push(distinct);
        }
        const [train, heldOut] = sides;
        assert.equal(train.filter((r) => heldOut.includes(r)).length, 0, 'sides disjoint');
        assert.deepEqual([...train, ...heldOut].sort((a, b) => a - b), Array.from({ length: RECORDS }, (_, i) => i));
      },
    ),
    { seed: 42, numRuns: 25 },
  );
});

test('resuming at any batch boundary continues with exactly the same records', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 3 }), async (batch, cut, worldSize) => {
      const config = { batch, world_size: worldSize, rank: worldSize - 1, seed: 5, loop: true };
      const whole = await ImageStream.open(db, { ...config, threads: 0 });
      const sequence: number[][] = [];
      let position = whole.position();
      for (let i = 0; i < 14; i++) {
        const b = (await whole.next())!;
        sequence.push([...b.recordIndices]);
        if (i === cut - 1) position = b.position;
      }
      await whole.close();
      const resumed = await ImageStream.open(db, { ...config, threads: 0, resume_epoch: position.epoch, resume_offset: position.offset });
      for (let i = cut; i < 14; i++) assert.deepEqual([...(await resumed.next())!.recordIndices], sequence[i]);
      await resumed.close();
    }),
    { seed: 42, numRuns: 20 },
  );
});
