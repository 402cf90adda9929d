// Sampler properties (fast-check, fixed seed): determinism, resume from any position, rank
// partitions (disjoint, covering, equal size, and exactly the global order), round-robin balance
// within 1, reshuffles that change the order but not the multiset, and non-looping streams that
// end after exactly size() samples.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Sampler, createSampleSlot } from '../../src/augment/sampling/sampler.ts';

const SETTINGS = { seed: 42, numRuns: 120 };

const inputArb = fc.record({
  groups: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 60 }),
  mixinGroups: fc.option(fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 20 }), { nil: undefined }),
});
const configArb = fc.record({
  seed: fc.integer({ min: 0, max: 1e6 }),
  loop: fc.boolean(),
  shuffle: fc.boolean(),
  reshuffle: fc.boolean(),
  stratify: fc.boolean(),
  split: fc.integer({ min: 1, max: 4 }),
  mixin_max: fc.integer({ min: 0, max: 8 }),
  mixin_randomize: fc.boolean(),
  world_size: fc.integer({ min: 1, max: 5 }),
});
const caseArb = fc.tuple(inputArb, configArb).map(([input, c]) => ({
  input,
  config: { ...c, split_fold: c.split > 1 ? c.split - 1 : 0 },
}));

/** Samples as "source:record" keys, plus slot metadata. */
function run(sampler: Sampler, count: number): { key: string; epoch: number; offset: number; globalOffset: number; padded: boolean }[] {
  const out = [];
  const slot = createSampleSlot();
  for (let i = 0; i < count && sampler.nextInto(slot); i++) {
    out.push({ key: `${slot.sourceIndex}:${slot.recordIndex}`, epoch: slot.epoch, offset: slot.offset, globalOffset: slot.globalOffset, padded: slot.padded });
  }
  return out;
}
const keys = (sampler: Sampler, count: number) => run(sampler, count).map((s) => s.key);

describe('Sampler properties', () => {
  test('deterministic for a seed', () => {
    fc.assert(
      fc.property(caseArb, ({ input, config }) => {
        const count = 3 * Math.max(1, input.groups.length);
        assert.deepEqual(keys(new Sampler(input, config), count), keys(new Sampler(input, config), count));
      }),
      SETTINGS,
    );
  });

  test('resume from any position yields exactly the remaining sequence (config keys and seek, both directions)', () => {
    fc.assert(
      fc.property(caseArb, fc.nat(200), fc.integer({ min: 1, max: 3 }), ({ input, config }, prefix, rank0) => {
        const rank = rank0 % config.world_size;
        const reference = new Sampler(input, { ...config, rank });
        run(reference, prefix);
        const position = reference.position();
        const tail = keys(reference, 150);
        const resumed = new Sampler(input, { ...config, rank, resume_epoch: position.epoch, resume_offset: position.offset });
        assert.deepEqual(keys(resumed, 150), tail);
        const seeker = new Sampler(input, { ...config, rank });
        run(seeker, prefix + 37); // past the position, then back
        seeker.seek(position);
        assert.deepEqual(keys(seeker, 150), tail);
      }),
      SETTINGS,
    );
  });

  test('ranks: equal shares; non-padded samples are exactly the global order at offsets ≡ rank; together they cover each epoch', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 1, max: 3 }), ({ input, config }, epochs) => {
        const global = new Sampler(input, { ...config, world_size: 1, rank: 0 });
        const size = global.size();
        const W = config.world_size;
        const perEpoch = Math.ceil(size / W);
        const totalEpochs = config.loop ? epochs : 1;
        const globalKeys = keys(global, size * totalEpochs);
        const covered = globalKeys.map(() => 0);
        for (let rank = 0; rank < W; rank++) {
          const sampler = new Sampler(input, { ...config, rank });
          assert.equal(sampler.epochSize(), perEpoch);
          const samples = run(sampler, perEpoch * totalEpochs + 5);
          assert.equal(samples.length, size === 0 ? 0 : config.loop ? perEpoch * totalEpochs + 5 : perEpoch, 'equal share');
          for (const s of samples.slice(0, perEpoch * totalEpochs)) {
            const epochOffset = s.offset * W + rank;
            assert.equal(s.padded, epochOffset >= size);
            assert.equal(s.globalOffset, epochOffset % size);
            const position = s.epoch * size + (epochOffset % size);
            assert.equal(s.key, globalKeys[position]);
            if (!s.padded) covered[position]++;
          }
        }
        assert.ok(covered.every((c) => c === 1), 'disjoint and covering');
      }),
      SETTINGS,
    );
  });

  test('round-robin: group counts differ by at most 1 over every prefix (loop)', () => {
    fc.assert(
      fc.property(caseArb, ({ input, config }) => {
        const sampler = new Sampler({ groups: input.groups }, { ...config, stratify: true, loop: true, world_size: 1 });
        const counts = new Map<number, number>(sampler.groupKeys.map((g) => [g, 0]));
        const slot = createSampleSlot();
        for (let i = 0; i < 4 * sampler.size(); i++) {
          sampler.nextInto(slot);
          const g = input.groups[slot.recordIndex];
          counts.set(g, counts.get(g)! + 1);
          const values = [...counts.values()];
          assert.ok(Math.max(...values) - Math.min(...values) <= 1);
        }
      }),
      SETTINGS,
    );
  });

  test('one group: every epoch is a permutation of the selected records; reshuffle changes the order, not the multiset', () => {
    fc.assert(
      fc.property(caseArb.filter(({ input }) => input.groups.length >= 8), ({ input, config }) => {
        const options = { ...config, stratify: false, loop: true, reshuffle: true, world_size: 1, split: 1, split_fold: 0 };
        const sampler = new Sampler({ groups: input.groups }, options);
        const size = sampler.size();
        const epochs = [keys(sampler, size), keys(sampler, size), keys(sampler, size)];
        const sorted = epochs.map((e) => [...e].sort());
        assert.equal(new Set(epochs[0]).size, size);
        assert.deepEqual(sorted[1], sorted[0]);
        assert.deepEqual(sorted[2], sorted[0]);
        assert.notDeepEqual(epochs[1], epochs[0]);
        assert.notDeepEqual(epochs[2], epochs[1]);
        const fixed = new Sampler({ groups: input.groups }, { ...options, reshuffle: false });
        const e0 = keys(fixed, size);
        assert.deepEqual(keys(fixed, size), e0);
      }),
      SETTINGS,
    );
  });

  test('non-looping: exactly size() samples, each selected record once, then done', () => {
    fc.assert(
      fc.property(caseArb, ({ input, config }) => {
        const sampler = new Sampler(input, { ...config, loop: false, world_size: 1 });
        const samples = keys(sampler, Infinity);
        assert.equal(samples.length, sampler.size());
        assert.equal(new Set(samples).size, samples.length);
        assert.equal(sampler.done(), true);
        // an empty stream is done before it starts
        assert.deepEqual(sampler.position(), { epoch: sampler.size() === 0 ? 0 : 1, offset: 0 });
        const mixinKept = input.mixinGroups === undefined ? 0 : config.mixin_max > 0 ? Math.min(config.mixin_max, input.mixinGroups.length) : input.mixinGroups.length;
        if (config.split === 1) assert.equal(sampler.size(), input.groups.length + mixinKept);
        else assert.ok(sampler.size() <= input.groups.length + mixinKept);
      }),
      SETTINGS,
    );
  });
});
