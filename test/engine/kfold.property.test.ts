// K-fold properties (fast-check, fixed seed): for every K and fold the two sides are disjoint and
// cover the records, the held-out sides of all folds partition the records, chunk sizes are
// balanced within 1 (per group when stratified), explicit keys equal the union of their folds,
// and the selection is a pure function of (groups, options).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { kfoldSelect } from '../../src/engine/kfold.ts';

const SETTINGS = { seed: 42, numRuns: 150 };

const groupsArb = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 120 }),
  fc.array(fc.constantFrom(0, 1, 2.5, -1), { maxLength: 60 }),
);
const caseArb = fc.record({
  groups: groupsArb,
  split: fc.integer({ min: 1, max: 9 }),
  stratify: fc.boolean(),
  shuffle: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
});

const asSet = (a: Uint32Array) => new Set(a);

describe('kfoldSelect properties', () => {
  test('every fold: training and validation sides are disjoint and cover all records', () => {
    fc.assert(
      fc.property(caseArb, ({ groups, split, stratify, shuffle, seed }) => {
        for (let fold = 0; fold < split; fold++) {
          const train = kfoldSelect(groups, { split, fold, stratify, shuffle, seed });
          if (split === 1) {
            assert.equal(train.length, groups.length);
            assert.equal(asSet(train).size, groups.length);
            continue;
          }
          const validation = kfoldSelect(groups, { split, fold, negate: true, stratify, shuffle, seed });
          const all = new Set([...train, ...validation]);
          assert.equal(all.size, groups.length, 'cover');
          assert.equal(train.length + validation.length, groups.length, 'disjoint');
        }
      }),
      SETTINGS,
    );
  });

  test('the held-out sides of all folds partition the records', () => {
    fc.assert(
      fc.property(caseArb.filter((c) => c.split > 1), ({ groups, split, stratify, shuffle, seed }) => {
        const seen = new Uint8Array(groups.length);
        for (let fold = 0; fold < split; fold++) {
          for (const i of kfoldSelect(groups, { split, fold, negate: true, stratify, shuffle, seed })) seen[i]++;
        }
        assert.ok(seen.every((count) => count === 1));
      }),
      SETTINGS,
    );
  });

  test('held-out sizes are balanced within 1, per group when stratified', () => {
    fc.assert(
      fc.property(caseArb.filter((c) => c.split > 1), ({ groups, split, stratify, shuffle, seed }) => {
        const integral = groups.every((g) => Number.isInteger(g) && g >= 0);
        const keyOf = (i: number) => (stratify && integral ? groups[i] : 0);
        const perGroup = new Map<number, number[]>();
        const groupSize = new Map<number, number>();
        for (let i = 0; i < groups.length; i++) groupSize.set(keyOf(i), (groupSize.get(keyOf(i)) ?? 0) + 1);
        for (let fold = 0; fold < split; fold++) {
          const counts = new Map<number, number>();
          for (const i of kfoldSelect(groups, { split, fold, negate: true, stratify, shuffle, seed })) {
            counts.set(keyOf(i), (counts.get(keyOf(i)) ?? 0) + 1);
          }
          for (const key of groupSize.keys()) {
            if (!perGroup.has(key)) perGroup.set(key, []);
            perGroup.get(key)!.push(counts.get(key) ?? 0);
          }
        }
        for (const [key, counts] of perGroup) {
          const n = groupSize.get(key)!;
          for (const c of counts) assert.ok(c === Math.floor(n / split) || c === Math.ceil(n / split), `group ${key}: ${counts}`);
        }
      }),
      SETTINGS,
    );
  });

  test('fold -1 with keys selects exactly the union of those folds\' held-out sides', () => {
    fc.assert(
      fc.property(
        caseArb.filter((c) => c.split > 1).chain((c) => fc.tuple(fc.constant(c), fc.uniqueArray(fc.integer({ min: 0, max: c.split - 1 }), { minLength: 1 }))),
        ([{ groups, split, stratify, shuffle, seed }, keys]) => {
          const selected = asSet(kfoldSelect(groups, { split, fold: -1, keys, stratify, shuffle, seed }));
          const expected = new Set<number>();
          for (const k of keys) for (const i of kfoldSelect(groups, { split, fold: k, negate: true, stratify, shuffle, seed })) expected.add(i);
          assert.deepEqual(selected, expected);
          const complement = asSet(kfoldSelect(groups, { split, fold: -1, keys, negate: true, stratify, shuffle, seed }));
          for (const i of complement) assert.ok(!selected.has(i));
          assert.equal(complement.size + selected.size, groups.length);
        },
      ),
      SETTINGS,
    );
  });

  test('deterministic: the same inputs give the same order', () => {
    fc.assert(
      fc.property(caseArb, ({ groups, split, stratify, shuffle, seed }) => {
        const options = { split, fold: split - 1, stratify, shuffle, seed };
        assert.deepEqual(kfoldSelect(groups, options), kfoldSelect([...groups], options));
      }),
      SETTINGS,
    );
  });
});
