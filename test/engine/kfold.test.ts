// K-fold selection: worked examples of the original's semantics (REFERENCE §1.2.1), the
// stratification fallbacks, and every validation error with its exact text.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CATEGORIES, POOLED_GROUP, bucketGroups, keptChunks, kfoldPlan, kfoldSelect } from '../../src/engine/kfold.ts';

const sorted = (a: ArrayLike<number>) => [...Array.from(a)].sort((x, y) => x - y);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('kfoldSelect', () => {
  test('unshuffled single group: chunks are [⌊n·k/K⌋, ⌊n·(k+1)/K⌋) of file order', () => {
    const groups = new Float64Array(10);
    // n = 10, K = 3: chunks [0,3) [3,6) [6,10)
    assert.deepEqual([...kfoldSelect(groups, { split: 3, fold: 1, shuffle: false })], [0, 1, 2, 6, 7, 8, 9]);
    assert.deepEqual([...kfoldSelect(groups, { split: 3, fold: 1, negate: true, shuffle: false })], [3, 4, 5]);
    assert.deepEqual([...kfoldSelect(groups, { split: 3, fold: -1, keys: [2, 0, 2], shuffle: false })], [0, 1, 2, 6, 7, 8, 9]);
    assert.deepEqual([...kfoldSelect(groups, { split: 3, fold: -1, keys: [2], negate: true, shuffle: false })], [0, 1, 2, 3, 4, 5]);
    assert.deepEqual([...kfoldSelect(groups, { split: 1, fold: 0, shuffle: false })], range(10));
  });

  test('stratified: groups in ascending value order, each cut separately', () => {
    const groups = [1, 0, 1, 0, 1, 0, 1, 0];
    // group 0 = [1,3,5,7], group 1 = [0,2,4,6]; K = 2, keep chunk 1 → second halves
    assert.deepEqual([...kfoldSelect(groups, { split: 2, fold: 0, stratify: true, shuffle: false })], [5, 7, 4, 6]);
    const plan = kfoldPlan(groups, { split: 2, fold: 0, stratify: true, shuffle: false });
    assert.deepEqual(plan.keys, [0, 1]);
    assert.equal(plan.stratified, true);
    assert.deepEqual(plan.warnings, []);
  });

  test('shuffled selection is deterministic for a seed and differs between seeds', () => {
    const groups = new Float64Array(200);
    const a = kfoldSelect(groups, { split: 5, fold: 2, seed: 1 });
    assert.deepEqual(kfoldSelect(groups, { split: 5, fold: 2, seed: 1 }), a);
    assert.notDeepEqual(kfoldSelect(groups, { split: 5, fold: 2, seed: 2 }), a);
    assert.equal(a.length, 160);
    // default seed is the original's 2016
    assert.deepEqual(kfoldSelect(groups, { split: 5, fold: 2 }), kfoldSelect(groups, { split: 5, fold: 2, seed: 2016 }));
  });

  test('a group\'s shuffle does not depend on the other groups (per-group seeded stream)', () => {
    const a = kfoldPlan([0, 0, 0, 0, 0, 0, 1, 1], { split: 1, fold: 0, stratify: true, seed: 3 });
    const b = kfoldPlan([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1], { split: 1, fold: 0, stratify: true, seed: 3 });
    assert.deepEqual(a.members[0], b.members[0]);
  });

  test('stratify falls back to one group with a warning on float, negative, NaN and ≥ 2000 values', () => {
    for (const [bad, why] of [
      [1.5, 'group value 1.5 of record 2 is not a non-negative integer'],
      [-1, 'group value -1 of record 2 is not a non-negative integer'],
      [Number.NaN, 'group value NaN of record 2 is not a non-negative integer'],
      [MAX_CATEGORIES, 'group value 2000 of record 2 exceeds the 2000-category limit'],
    ] as const) {
      const plan = kfoldPlan([0, 1, bad, 1], { split: 1, fold: 0, stratify: true, shuffle: false });
      assert.equal(plan.stratified, false);
      assert.deepEqual(plan.keys, [POOLED_GROUP]);
      assert.deepEqual([...plan.members[0]], [0, 1, 2, 3]);
      assert.deepEqual(plan.warnings, [`stratify disabled: ${why}; all records form one group`]);
    }
    assert.equal(bucketGroups([MAX_CATEGORIES - 1, 0], { stratify: true }).stratified, true);
  });

  test('groups emptied by the split are dropped with a warning; empty input selects nothing', () => {
    const plan = kfoldPlan([0, 0, 0, 0, 1], { split: 2, fold: 1, stratify: true, shuffle: false });
    // group 1 has one record: chunks [0,0) [0,1); fold 1 held out → chunk 0 empty
    assert.deepEqual(plan.keys, [0]);
    assert.deepEqual(plan.warnings, ['group 1 has no records after the split (1 records, split 2); it is skipped']);
    const single = kfoldPlan([5], { split: 2, fold: 1 });
    assert.deepEqual(single.warnings, ['no records left after the split (1 records, split 2)']);
    assert.deepEqual([...kfoldSelect([], { split: 3, fold: 0 })], []);
    assert.deepEqual(bucketGroups([]).keys, []);
  });

  test('keptChunks resolves fold / negate / keys', () => {
    assert.deepEqual(keptChunks({ split: 4, fold: 1 }), [0, 2, 3]);
    assert.deepEqual(keptChunks({ split: 4, fold: 1, negate: true }), [1]);
    assert.deepEqual(keptChunks({ split: 4, fold: -1, keys: [3, 1, 1] }), [1, 3]);
    assert.deepEqual(keptChunks({ split: 4, fold: -1, keys: [3, 1], negate: true }), [0, 2]);
    assert.deepEqual(keptChunks({ split: 1, fold: 0 }), [0]);
  });

  test('validation errors: exact sentences', () => {
    const g = [0, 1, 2];
    const cases: [object, string, string][] = [
      [{ split: 0, fold: 0 }, 'RangeError', 'Expected integer between 1 and 65536 for split but received 0 of type number'],
      [{ split: 65537, fold: 0 }, 'RangeError', 'Expected integer between 1 and 65536 for split but received 65537 of type number'],
      [{ split: '3', fold: 0 }, 'TypeError', 'Expected integer between 1 and 65536 for split but received "3" of type string'],
      [{ split: 3, fold: 3 }, 'RangeError', 'Expected integer between -1 and 2 for fold but received 3 of type number'],
      [{ split: 3, fold: 1.5 }, 'RangeError', 'Expected integer between -1 and 2 for fold but received 1.5 of type number'],
      [{ split: 1, fold: -1 }, 'RangeError', 'Expected 0 when split is 1 for fold but received -1 of type number'],
      [{ split: 1, fold: 0, negate: true }, 'TypeError', 'Expected false when split is 1 for negate but received true of type boolean'],
      [{ split: 3, fold: 0, negate: 1 }, 'TypeError', 'Expected boolean for negate but received 1 of type number'],
      [{ split: 3, fold: 0, keys: [1] }, 'RangeError', 'Expected -1 when keys are given for fold but received 0 of type number'],
      [{ split: 3, fold: -1 }, 'TypeError', 'Expected non-empty list of integers between 0 and 2 when fold is -1 for keys but received [] of type object'],
      [{ split: 3, fold: -1, keys: [3] }, 'RangeError', 'Expected list of integers between 0 and 2 for keys but received [3] of type object'],
      [{ split: 3, fold: -1, keys: 1 }, 'TypeError', 'Expected list of integers between 0 and 2 for keys but received 1 of type number'],
      [{ split: 3, fold: 0, stratify: 'yes' }, 'TypeError', 'Expected boolean for stratify but received "yes" of type string'],
      [{ split: 3, fold: 0, shuffle: 0 }, 'TypeError', 'Expected boolean for shuffle but received 0 of type number'],
      [{ split: 3, fold: 0, seed: 0.5 }, 'RangeError', 'Expected safe integer for seed but received 0.5 of type number'],
      [{ split: 3, fold: 0, seed: '1' }, 'TypeError', 'Expected safe integer for seed but received "1" of type string'],
    ];
    for (const [options, name, message] of cases) {
      assert.throws(() => kfoldSelect(g, options as never), { name, message }, JSON.stringify(options));
    }
    assert.throws(() => kfoldSelect(null as never, { split: 1, fold: 0 }), {
      name: 'TypeError',
      message: 'Expected array of numbers for groups but received null of type object',
    });
    assert.throws(() => kfoldSelect(g, null as never), { name: 'TypeError', message: 'Expected object for options but received null of type object' });
  });
});
