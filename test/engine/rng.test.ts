// Seeded PRNG: known answers (pins cross-platform determinism), stream independence, ranges,
// unbiasedness, Fisher-Yates uniformity, and every argument error (STYLE §17, §25).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RNG_TAG, Rng, deriveSeed } from '../../src/engine/rng.ts';

/** Pearson chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

describe('Rng', () => {
  test('known answers: the same numbers on every platform (32-bit integer math only)', () => {
    const rng = new Rng(2016);
    assert.deepEqual([rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32()], [3430184340, 4269121633, 3329800318, 3441772706]);
    const sub = new Rng(2016, 2, 5, 1);
    assert.deepEqual([sub.nextU32(), sub.nextU32()], [1196079215, 3147279896]);
    const a = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    new Rng(42).shuffle(a);
    assert.deepEqual(a, [9, 0, 4, 1, 7, 8, 5, 2, 3, 6]);
  });

  test('deriveSeed: known answers; every part and both 32-bit halves matter', () => {
    assert.equal(deriveSeed(2016), 814008248);
    assert.equal(deriveSeed(2016, 0), 3005810922);
    assert.equal(deriveSeed(2016, 0, 0), 2649833796);
    assert.equal(deriveSeed(1), 79150318);
    assert.equal(deriveSeed(2 ** 32 + 1), 3627302348);
    assert.equal(deriveSeed(-1), 2671511843);
    assert.notEqual(deriveSeed(7, 1, 2), deriveSeed(7, 2, 1));
    const seen = new Set<number>();
    for (let epoch = 0; epoch < 1000; epoch++) seen.add(deriveSeed(2016, epoch));
    assert.equal(seen.size, 1000);
  });

  test('same seed and streams → same sequence; different streams → different sequences', () => {
    const a = new Rng(5, RNG_TAG.reshuffle, 3, 7);
    const b = new Rng(5, RNG_TAG.reshuffle, 3, 7);
    const c = new Rng(5, RNG_TAG.reshuffle, 3, 8);
    const xs = Array.from({ length: 50 }, () => a.nextU32());
    assert.deepEqual(Array.from({ length: 50 }, () => b.nextU32()), xs);
    assert.notDeepEqual(Array.from({ length: 50 }, () => c.nextU32()), xs);
    assert.equal(a.key, deriveSeed(5, RNG_TAG.reshuffle, 3, 7));
  });

  test('fork(b) of Rng(s, a) equals Rng(s, a, b) and does not consume the parent', () => {
    const parent = new Rng(9, 1);
    const child = parent.fork(2, 3);
    const direct = new Rng(9, 1, 2, 3);
    assert.equal(child.key, direct.key);
    assert.deepEqual(Array.from({ length: 20 }, () => child.nextU32()), Array.from({ length: 20 }, () => direct.nextU32()));
    assert.equal(parent.nextU32(), new Rng(9, 1).nextU32());
  });

  test('next() is in [0, 1) with a mean near ½; uniform() and chance() respect their ranges', () => {
    const rng = new Rng(1);
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const x = rng.next();
      assert.ok(x >= 0 && x < 1);
      sum += x;
    }
    assert.ok(Math.abs(sum / 20000 - 0.5) < 0.01);
    for (let i = 0; i < 1000; i++) {
      const u = rng.uniform(-3, 2);
      assert.ok(u >= -3 && u < 2);
    }
    assert.equal(rng.uniform(4, 4), 4);
    let heads = 0;
    for (let i = 0; i < 10000; i++) if (rng.chance(0.25)) heads++;
    assert.ok(Math.abs(heads / 10000 - 0.25) < 0.02);
    assert.equal(rng.chance(0), false);
    assert.equal(rng.chance(1), true);
  });

  test('int(max) is unbiased over [0, max) (chi-square, 3 and 7 buckets) and handles 1 and 2^32', () => {
    const rng = new Rng(3);
    for (const max of [3, 7]) {
      const counts = new Array<number>(max).fill(0);
      for (let i = 0; i < 35000; i++) counts[rng.int(max)]++;
      // 99.9 % quantiles: df 2 → 13.8, df 6 → 22.5
      assert.ok(chiSquare(counts) < (max === 3 ? 13.8 : 22.5), `chi-square ${chiSquare(counts)} for ${counts}`);
    }
    assert.equal(rng.int(1), 0);
    for (let i = 0; i < 100; i++) {
      const x = rng.int(2 ** 32);
      assert.ok(Number.isInteger(x) && x >= 0 && x < 2 ** 32);
    }
  });

  test('shuffle is a permutation and uniform over the 6 orders of 3 items (chi-square)', () => {
    const rng = new Rng(11);
    const counts = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const a = [0, 1, 2];
      rng.shuffle(a);
      counts.set(a.join(''), (counts.get(a.join('')) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    assert.ok(chiSquare([...counts.values()]) < 20.5); // df 5, 99.9 %
    const typed = Uint32Array.from({ length: 1000 }, (_, i) => i);
    rng.shuffle(typed);
    assert.deepEqual([...typed].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
    assert.notDeepEqual([...typed], Array.from({ length: 1000 }, (_, i) => i));
    const empty: number[] = [];
    rng.shuffle(empty);
    assert.deepEqual(empty, []);
  });

  test('shuffleRange touches only [start, end)', () => {
    const a = Uint32Array.from({ length: 20 }, (_, i) => i);
    new Rng(1).shuffleRange(a, 5, 15);
    assert.deepEqual([...a.subarray(0, 5)], [0, 1, 2, 3, 4]);
    assert.deepEqual([...a.subarray(15)], [15, 16, 17, 18, 19]);
    assert.deepEqual([...a.subarray(5, 15)].sort((x, y) => x - y), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  test('argument errors use the sharp sentence with exact text', () => {
    const rng = new Rng(1);
    assert.throws(() => new Rng(1.5), { name: 'RangeError', message: 'Expected safe integer for seed but received 1.5 of type number' });
    assert.throws(() => new Rng(Number.NaN), { name: 'RangeError', message: 'Expected safe integer for seed but received null of type number' });
    assert.throws(() => new Rng('7' as unknown as number), { name: 'TypeError', message: 'Expected safe integer for seed but received "7" of type string' });
    assert.throws(() => new Rng(1, 2 ** 60), { name: 'RangeError', message: 'Expected safe integer for parts[0] but received 1152921504606847000 of type number' });
    assert.throws(() => rng.fork(0.5), { name: 'RangeError', message: 'Expected safe integer for streams[0] but received 0.5 of type number' });
    assert.throws(() => deriveSeed(1, 2, 'x' as unknown as number), { name: 'TypeError', message: 'Expected safe integer for parts[1] but received "x" of type string' });
    assert.throws(() => rng.int(0), { name: 'RangeError', message: 'Expected integer between 1 and 4294967296 for maxExclusive but received 0 of type number' });
    assert.throws(() => rng.int(2.5), { name: 'RangeError', message: 'Expected integer between 1 and 4294967296 for maxExclusive but received 2.5 of type number' });
    assert.throws(() => rng.int(2 ** 32 + 1), { name: 'RangeError', message: 'Expected integer between 1 and 4294967296 for maxExclusive but received 4294967297 of type number' });
    assert.throws(() => rng.int('3' as unknown as number), { name: 'TypeError', message: 'Expected integer between 1 and 4294967296 for maxExclusive but received "3" of type string' });
    assert.throws(() => rng.uniform(2, 1), { name: 'RangeError', message: 'Expected finite number of at least 2 for max but received 1 of type number' });
    assert.throws(() => rng.uniform(Infinity, 1), { name: 'RangeError', message: 'Expected finite number for min but received null of type number' });
    assert.throws(() => rng.uniform('0' as unknown as number, 1), { name: 'TypeError', message: 'Expected finite number for min but received "0" of type string' });
    assert.throws(() => rng.uniform(0, '1' as unknown as number), { name: 'TypeError', message: 'Expected finite number for max but received "1" of type string' });
    assert.throws(() => rng.chance(2), { name: 'RangeError', message: 'Expected number between 0 and 1 for probability but received 2 of type number' });
    assert.throws(() => rng.chance('x' as unknown as number), { name: 'TypeError', message: 'Expected number between 0 and 1 for probability but received "x" of type string' });
    assert.throws(() => rng.shuffle('abc' as unknown as number[]), { name: 'TypeError', message: 'Expected Array or Uint32Array for array but received "abc" of type string' });
    assert.throws(() => rng.shuffleRange([1, 2, 3], -1, 2), { name: 'RangeError', message: 'Expected integer between 0 and 3 for start but received -1 of type number' });
    assert.throws(() => rng.shuffleRange([1, 2, 3], 2, 4), { name: 'RangeError', message: 'Expected integer between 2 and 3 for end but received 4 of type number' });
  });
});
