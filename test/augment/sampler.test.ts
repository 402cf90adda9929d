// The sample-order engine: the port of the original's own stream test (REFERENCE §1.7), exact
// orders for small cases (round-robin, non-loop drop-out, ranks, padding), mixin handling,
// fallbacks surfaced as warnings, resume, and every error path.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Sampler, createSampleSlot, type SampleSlot } from '../../src/augment/sampling/sampler.ts';
import { parseStreamConfig } from '../../src/augment/config.ts';
import { kfoldSelect } from '../../src/engine/kfold.ts';

/** Take `count` samples as [recordIndex, sourceIndex, padded?] triples. */
function draw(sampler: Sampler, count: number): [number, number, boolean][] {
  const out: [number, number, boolean][] = [];
  const slot = createSampleSlot();
  for (let i = 0; i < count && sampler.nextInto(slot); i++) out.push([slot.recordIndex, slot.sourceIndex, slot.padded]);
  return out;
}
const records = (sampler: Sampler, count: number) => draw(sampler, count).map(([r]) => r);

describe('port of the original test.cpp (REFERENCE §1.7)', () => {
  // 853 records, id = i, label = ⌊√i⌋ mod 5; split 7, fold 3, shuffle, loop; 3461·11 − 1 samples.
  const N = 853;
  const labels = Float64Array.from({ length: N }, (_, i) => Math.floor(Math.sqrt(i)) % 5);
  const SAMPLES = 3461 * 11 - 1;

  function counts(stratify: boolean): { perLabel: number[]; perId: Map<number, number>; size: number } {
    const sampler = new Sampler({ groups: labels }, { split: 7, split_fold: 3, shuffle: true, loop: true, stratify });
    const perLabel = [0, 0, 0, 0, 0];
    const perId = new Map<number, number>();
    const slot = createSampleSlot();
    for (let i = 0; i < SAMPLES; i++) {
      assert.ok(sampler.nextInto(slot));
      perLabel[labels[slot.recordIndex]]++;
      perId.set(slot.recordIndex, (perId.get(slot.recordIndex) ?? 0) + 1);
    }
    return { perLabel, perId, size: sampler.size() };
  }

  test('stratified (round-robin): label counts differ by at most 1', () => {
    const { perLabel } = counts(true);
    assert.ok(Math.max(...perLabel) - Math.min(...perLabel) <= 1, `${perLabel}`);
  });

  test('not stratified: id counts balanced (within 1), label counts unbalanced', () => {
    const { perLabel, perId, size } = counts(false);
    assert.equal(perId.size, size);
    const ids = [...perId.values()];
    assert.ok(Math.max(...ids) - Math.min(...ids) <= 1, `${Math.min(...ids)}..${Math.max(...ids)}`);
    assert.ok(Math.min(...ids) === Math.floor(SAMPLES / size));
    assert.ok(Math.max(...perLabel) - Math.min(...perLabel) > 500, `${perLabel}`);
  });

  for (const stratify of [true, false]) {
    test(`train and validation id sets are disjoint, cover all 853, and each holds all 5 labels (stratify ${stratify})`, () => {
      const side = (negate: boolean) => {
        const sampler = new Sampler({ groups: labels }, { split: 7, split_fold: 3, split_negate: negate, shuffle: true, loop: false, stratify });
        return new Set(records(sampler, Infinity));
      };
      const train = side(false);
      const validation = side(true);
      for (const id of validation) assert.ok(!train.has(id), `id ${id} on both sides`);
      assert.equal(train.size + validation.size, N);
      for (const set of [train, validation]) assert.deepEqual(new Set([...set].map((i) => labels[i])), new Set([0, 1, 2, 3, 4]));
      // the stream's split is kfoldSelect's split
      assert.deepEqual(validation, new Set(kfoldSelect(labels, { split: 7, fold: 3, negate: true, stratify, seed: 2016 })));
    });
  }
});

describe('Sampler order', () => {
  test('non-looping round-robin: an exhausted group drops out; exactly size() samples', () => {
    // groups: 0 → [0,1,2], 1 → [3], 2 → [4,5]
    const sampler = new Sampler({ groups: [0, 0, 0, 1, 2, 2] }, { stratify: true, shuffle: false, loop: false });
    assert.deepEqual(records(sampler, 100), [0, 3, 4, 1, 5, 2]);
    assert.equal(sampler.done(), true);
    assert.deepEqual(sampler.position(), { epoch: 1, offset: 0 });
    assert.equal(sampler.nextInto(createSampleSlot()), false);
  });

  test('looping round-robin without reshuffle: each group cycles on its own', () => {
    const sampler = new Sampler({ groups: [0, 0, 0, 1, 2, 2] }, { stratify: true, shuffle: false, reshuffle: false });
    // t: g = t mod 3, draw ⌊t/3⌋ mod n_g
    assert.deepEqual(records(sampler, 12), [0, 3, 4, 1, 3, 5, 2, 3, 4, 0, 3, 5]);
    assert.deepEqual(sampler.position(), { epoch: 2, offset: 0 }); // epoch = size() = 6 samples
  });

  test('oversample is HEAD\'s name for round-robin', () => {
    const a = new Sampler({ groups: [0, 0, 0, 1, 2, 2] }, { oversample: true, shuffle: false, loop: false });
    assert.deepEqual(records(a, 100), [0, 3, 4, 1, 5, 2]);
    assert.equal(a.stratified, true);
  });

  test('one group: epoch 0 is the open-time shuffle, later epochs are reshuffles of the same set', () => {
    const groups = new Float64Array(50);
    const sampler = new Sampler({ groups }, { seed: 7 });
    const e0 = records(sampler, 50);
    const e1 = records(sampler, 50);
    assert.deepEqual(e0, [...kfoldSelect(groups, { split: 1, fold: 0, seed: 7 })]);
    assert.notDeepEqual(e1, e0);
    assert.deepEqual([...e1].sort((a, b) => a - b), [...e0].sort((a, b) => a - b));
    const plain = new Sampler({ groups }, { seed: 7, reshuffle: false });
    assert.deepEqual(records(plain, 100), [...e0, ...e0]);
    const unshuffled = new Sampler({ groups }, { shuffle: false, reshuffle: false });
    assert.deepEqual(records(unshuffled, 50), Array.from({ length: 50 }, (_, i) => i));
  });

  test('ranks: offsets ≡ rank (mod world_size) per epoch; the tail wraps to the epoch start, flagged padded', () => {
    const groups = new Float64Array(10);
    const config = { shuffle: false, reshuffle: false, loop: false, world_size: 3 };
    const expected = [
      [[0, 0, false], [3, 0, false], [6, 0, false], [9, 0, false]],
      [[1, 0, false], [4, 0, false], [7, 0, false], [0, 0, true]],
      [[2, 0, false], [5, 0, false], [8, 0, false], [1, 0, true]],
    ];
    for (let rank = 0; rank < 3; rank++) {
      const sampler = new Sampler({ groups }, { ...config, rank });
      assert.equal(sampler.epochSize(), 4);
      assert.deepEqual(draw(sampler, 100), expected[rank]);
    }
    const tiny = new Sampler({ groups: [0, 0] }, { world_size: 5, rank: 4, shuffle: false });
    assert.deepEqual(tiny.warnings, ['world_size 5 exceeds the 2 selected records; ranks repeat records (flagged padded) to keep equal shares']);
    assert.deepEqual(draw(tiny, 2), [[0, 0, true], [0, 0, true]]); // offsets 4 → 0 of each epoch
  });

  test('slots carry the rank-local position of the sample', () => {
    const sampler = new Sampler({ groups: new Float64Array(5) }, { world_size: 2, rank: 1 });
    const seen: Pick<SampleSlot, 'epoch' | 'offset'>[] = [];
    for (const slot of sampler) {
      seen.push({ epoch: slot.epoch, offset: slot.offset });
      if (seen.length === 4) break;
    }
    assert.deepEqual(seen, [{ epoch: 0, offset: 0 }, { epoch: 0, offset: 1 }, { epoch: 0, offset: 2 }, { epoch: 1, offset: 0 }]);
  });

  test('take() fills typed arrays and stops at the end of a non-looping stream', () => {
    const sampler = new Sampler({ groups: new Float64Array(5), mixinGroups: [0, 0] }, { loop: false, shuffle: false });
    const recordIndices = new Uint32Array(4);
    const sourceIndices = new Uint8Array(4);
    const padded = new Uint8Array(4);
    assert.equal(sampler.take(recordIndices, { sourceIndices, padded }), 4);
    assert.deepEqual([...recordIndices], [0, 1, 2, 3]);
    assert.equal(sampler.take(recordIndices, { sourceIndices, padded }), 3);
    assert.deepEqual([...recordIndices.subarray(0, 3)], [4, 0, 1]);
    assert.deepEqual([...sourceIndices.subarray(0, 3)], [0, 1, 1]);
    assert.equal(sampler.take(recordIndices), 0);
    assert.throws(() => sampler.take(recordIndices, { count: 5 }), { name: 'RangeError', message: 'Expected integer between 0 and 4 for count but received 5 of type number' });
    assert.throws(() => sampler.take(recordIndices, { sourceIndices: new Uint8Array(2) }), { name: 'RangeError', message: 'Expected integer between 0 and 2 for count but received 4 of type number' });
    assert.throws(() => sampler.take([1] as never), { name: 'TypeError', message: 'Expected Uint32Array for recordIndices but received [1] of type object' });
  });

  test('reset() replays the same sequence (no reshuffle, unlike a rewind)', () => {
    const sampler = new Sampler({ groups: [0, 1, 1, 2, 2, 2] }, { stratify: true });
    const first = records(sampler, 40);
    sampler.reset();
    assert.deepEqual(records(sampler, 40), first);
  });

  test('1M samples stay fast (O(1) per sample)', () => {
    const sampler = new Sampler({ groups: Float64Array.from({ length: 10000 }, (_, i) => i % 10) }, { stratify: true });
    const out = new Uint32Array(1 << 20);
    const start = performance.now();
    assert.equal(sampler.take(out), out.length);
    assert.ok(performance.now() - start < 2000);
  });
});

describe('Sampler mixin', () => {
  test('mixin records follow the main ones and report sourceIndex 1', () => {
    const sampler = new Sampler({ groups: [0, 0], mixinGroups: [0, 0, 0] }, { shuffle: false, loop: false });
    assert.deepEqual(draw(sampler, 10), [[0, 0, false], [1, 0, false], [0, 1, false], [1, 1, false], [2, 1, false]]);
    assert.equal(sampler.size(), 5);
    assert.equal(sampler.total(), 5);
  });

  test('mixin_max keeps the first N in file order, or N seeded random ones with mixin_randomize', () => {
    const mixinGroups = new Float64Array(100);
    const first = new Sampler({ groups: [0], mixinGroups }, { mixin_max: 3, shuffle: false, loop: false });
    assert.deepEqual(draw(first, 10), [[0, 0, false], [0, 1, false], [1, 1, false], [2, 1, false]]);
    assert.equal(first.size(), 4);
    assert.equal(first.total(), 101);
    const random = new Sampler({ groups: [0], mixinGroups }, { mixin_max: 3, mixin_randomize: true, shuffle: false, loop: false });
    const picked = draw(random, 10).filter(([, source]) => source === 1).map(([r]) => r);
    assert.equal(picked.length, 3);
    assert.deepEqual(picked, [...picked].sort((a, b) => a - b)); // back in file order
    assert.notDeepEqual(picked, [0, 1, 2]);
    const again = new Sampler({ groups: [0], mixinGroups }, { mixin_max: 3, mixin_randomize: true, shuffle: false, loop: false });
    assert.deepEqual(draw(again, 10).filter(([, s]) => s === 1).map(([r]) => r), picked);
  });

  test('mixin_group_reset / mixin_group_delta move mixin records into their own group', () => {
    const reset = new Sampler({ groups: [0, 0, 1, 1], mixinGroups: [7.5, 9] }, { stratify: true, mixin_group_reset: 2 });
    assert.deepEqual(reset.groupKeys, [0, 1, 2]);
    assert.deepEqual(reset.warnings, []);
    const delta = new Sampler({ groups: [0, 0, 1, 1], mixinGroups: [0, 1] }, { stratify: true, mixin_group_delta: 2, shuffle: false, loop: false });
    assert.deepEqual(delta.groupKeys, [0, 1, 2, 3]);
    assert.deepEqual(draw(delta, 10), [[0, 0, false], [2, 0, false], [0, 1, false], [1, 1, false], [1, 0, false], [3, 0, false]]);
    const float = new Sampler({ groups: [0, 1], mixinGroups: [0] }, { stratify: true, mixin_group_delta: 0.5 });
    assert.equal(float.stratified, false);
    assert.deepEqual(float.warnings, ['stratify disabled: group value 0.5 of record 2 is not a non-negative integer; all records form one group']);
  });
});

describe('Sampler fallbacks, resume and errors', () => {
  test('stratify on float labels falls back to one group with a warning, never an abort', () => {
    const sampler = new Sampler({ groups: [1.5, 0, 2] }, { stratify: true });
    assert.equal(sampler.stratified, false);
    assert.deepEqual(sampler.groupKeys, [-1]);
    assert.deepEqual(sampler.warnings, ['stratify disabled: group value 1.5 of record 0 is not a non-negative integer; all records form one group']);
    assert.equal(records(sampler, 9).length, 9);
    const many = new Sampler({ groups: [0, 2500] }, { stratify: true });
    assert.deepEqual(many.warnings, ['stratify disabled: group value 2500 of record 1 exceeds the 2000-category limit; all records form one group']);
  });

  test('an empty selection ends at once, with a warning', () => {
    for (const loop of [true, false]) {
      const sampler = new Sampler({ groups: [] }, { loop });
      assert.equal(sampler.size(), 0);
      assert.equal(sampler.epochSize(), 0);
      assert.equal(sampler.done(), true);
      assert.deepEqual(records(sampler, 5), []);
      assert.deepEqual(sampler.warnings, ['no records selected; the stream is empty']);
    }
  });

  test('resume_epoch / resume_offset continue exactly where position() left off', () => {
    const groups = Float64Array.from({ length: 37 }, (_, i) => i % 4);
    const config = { stratify: true, split: 3, split_fold: 1, world_size: 2, rank: 1, seed: 99 };
    const reference = new Sampler({ groups }, config);
    records(reference, 50);
    const position = reference.position();
    const tail = records(reference, 80);
    const resumed = new Sampler({ groups }, { ...config, resume_epoch: position.epoch, resume_offset: position.offset });
    assert.deepEqual(records(resumed, 80), tail);
    const viaQuery = new Sampler({ groups }, new URLSearchParams(`stratify=1&split=3&split_fold=1&world_size=2&rank=1&seed=99&resume_epoch=${position.epoch}&resume_offset=${position.offset}`));
    assert.deepEqual(records(viaQuery, 80), tail);
  });

  test('a non-looping stream resumed at epoch ≥ 1 is done', () => {
    const sampler = new Sampler({ groups: [0, 0, 0] }, { loop: false, resume_epoch: 1 });
    assert.equal(sampler.done(), true);
    assert.deepEqual(records(sampler, 3), []);
  });

  test('errors: exact sentences', () => {
    assert.throws(() => new Sampler({ groups: [0, 0, 0] }, { resume_offset: 3 }), {
      name: 'RangeError',
      message: 'Expected integer between 0 and 2 for resume_offset but received 3 of type number',
    });
    const s = new Sampler({ groups: [0, 0, 0] });
    assert.throws(() => s.seek({ epoch: -1, offset: 0 }), { name: 'RangeError', message: 'Expected non-negative safe integer for resume_epoch but received -1 of type number' });
    assert.throws(() => s.seek({ epoch: '1', offset: 0 } as never), { name: 'TypeError', message: 'Expected non-negative safe integer for resume_epoch but received "1" of type string' });
    assert.throws(() => s.seek({ epoch: 0, offset: 0.5 }), { name: 'RangeError', message: 'Expected integer between 0 and 2 for resume_offset but received 0.5 of type number' });
    assert.throws(() => s.seek({ epoch: 0, offset: null } as never), { name: 'TypeError', message: 'Expected integer between 0 and 2 for resume_offset but received null of type object' });
    assert.throws(() => s.seek(null as never), { name: 'TypeError', message: 'Expected object { epoch, offset } for position but received null of type object' });
    assert.throws(() => s.seek({ epoch: 2 ** 52, offset: 0 }), { name: 'RangeError', message: 'Expected integer at most 3002399751580329 for resume_epoch but received 4503599627370496 of type number' });
    assert.throws(() => new Sampler(null as never), { name: 'TypeError', message: 'Expected object with groups for input but received null of type object' });
    assert.throws(() => new Sampler({ groups: 5 } as never), { name: 'TypeError', message: 'Expected array of numbers for groups but received 5 of type number' });
    assert.throws(() => new Sampler({ groups: [0, '1'] } as never), { name: 'TypeError', message: 'Expected number for groups[1] but received "1" of type string' });
    assert.throws(() => new Sampler({ groups: [0], mixinGroups: [null] } as never), { name: 'TypeError', message: 'Expected number for mixinGroups[0] but received null of type object' });
    assert.throws(() => new Sampler({ groups: [0] }, { batchsize: 3 }), { name: 'TypeError', message: 'Unknown stream parameter "batchsize"; did you mean "batch"?' });
  });

  test('describe() summarises the order', () => {
    const sampler = new Sampler({ groups: [0, 1, 1, 2] }, parseStreamConfig({ stratify: true, split: 2, split_fold: 1, split_negate: true, world_size: 2, rank: 1 }));
    assert.equal(sampler.describe(), `sampler(${sampler.size()} of 4 records, round-robin over ${sampler.groupCount} groups, split 2 fold 1 negated, loop, seed 2016, rank 1/2, ${sampler.epochSize()} per epoch)`);
    assert.equal(new Sampler({ groups: [0, 1] }, { loop: false }).describe(), 'sampler(2 of 2 records, one group, one epoch, seed 2016, 2 per epoch)');
  });
});
