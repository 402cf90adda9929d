// The open-time half of the sampler: which records take part and in which groups (REFERENCE
// §1.2.1 "order of operations at open"): main records 0..N-1, then the mixin's records
// (optionally shuffled with Rng(seed, RNG_TAG.mixin), truncated to mixin_max, sorted back to
// file order) with their group reset/shifted; then kfoldPlan (group, shuffle, keep the selected
// chunks). The result is flat typed arrays the order engine (sampler.ts) indexes directly.

import { kfoldPlan } from '../../engine/kfold.ts';
import { RNG_TAG, Rng } from '../../engine/rng.ts';
import { invalidParameterError } from '../../errors.ts';
import type { SamplerConfig } from '../config-schema.ts';

export interface SamplerInput {
  /** Group value of every main record (label or label2), in record order. */
  groups: ArrayLike<number>;
  /** Group value of every mixin record, before mixin_group_reset/delta. Omit without a mixin. */
  mixinGroups?: ArrayLike<number>;
}

export interface SelectionPlan {
  /** Records in the main store (N). Combined index c < N is main record c. */
  mainCount: number;
  /** Records in the mixin store, before mixin_max. */
  mixinCount: number;
  /** Kept mixin record indices, ascending: combined index N + k is mixin record mixinRecords[k]. */
  mixinRecords: Uint32Array;
  /** Served groups (non-empty after the split): category value, or -1 for the pooled group. */
  groupKeys: number[];
  /** Group g's records are base[groupStart[g], groupStart[g + 1]). */
  groupStart: Uint32Array;
  /** Combined indices of the selected records, group by group, in open-time (pass 0) order. */
  base: Uint32Array;
  stratified: boolean;
  warnings: string[];
}

export function planSelection(input: SamplerInput, c: SamplerConfig): SelectionPlan {
  if (typeof input !== 'object' || input === null) throw invalidParameterError('input', 'object with groups', input);
  checkValues('groups', input.groups);
  if (input.mixinGroups !== undefined) checkValues('mixinGroups', input.mixinGroups);
  const mainCount = input.groups.length;
  const mixinCount = input.mixinGroups?.length ?? 0;
  const mixinRecords = keptMixin(mixinCount, c);
  const combined = new Float64Array(mainCount + mixinRecords.length);
  for (let i = 0; i < mainCount; i++) combined[i] = input.groups[i];
  for (let k = 0; k < mixinRecords.length; k++) {
    let group = input.mixinGroups![mixinRecords[k]];
    if (c.mixin_group_reset >= 0) group = c.mixin_group_reset;
    combined[mainCount + k] = group + c.mixin_group_delta;
  }
  const plan = kfoldPlan(combined, {
    split: c.split,
    fold: c.split_fold,
    negate: c.split_negate,
    keys: [...c.split_keys],
    stratify: c.stratify || c.oversample,
    shuffle: c.shuffle,
    seed: c.seed,
  });
  const groupStart = new Uint32Array(plan.members.length + 1);
  let total = 0;
  for (let g = 0; g < plan.members.length; g++) {
    groupStart[g] = total;
    total += plan.members[g].length;
  }
  groupStart[plan.members.length] = total;
  const base = new Uint32Array(total);
  for (let g = 0; g < plan.members.length; g++) base.set(plan.members[g], groupStart[g]);
  const warnings = [...plan.warnings];
  if (total === 0) warnings.push('no records selected; the stream is empty');
  return { mainCount, mixinCount, mixinRecords, groupKeys: plan.keys, groupStart, base, stratified: plan.stratified, warnings };
}

/** Mixin record indices kept: the first mixin_max in file order, or random ones (mixin_randomize); ascending. */
function keptMixin(mixinCount: number, c: SamplerConfig): Uint32Array {
  const all = new Uint32Array(mixinCount);
  for (let i = 0; i < mixinCount; i++) all[i] = i;
  const keep = c.mixin_max > 0 ? Math.min(mixinCount, c.mixin_max) : mixinCount;
  if (keep === mixinCount) return all;
  if (c.mixin_randomize) new Rng(c.seed, RNG_TAG.mixin).shuffle(all);
  return all.slice(0, keep).sort();
}

function checkValues(name: string, values: ArrayLike<number>): void {
  if (typeof values !== 'object' || values === null || typeof values.length !== 'number') {
    throw invalidParameterError(name, 'array of numbers', values);
  }
  if (values.length >= 0x1_0000_0000) throw invalidParameterError(name, 'fewer than 2^32 values', values.length);
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== 'number') throw invalidParameterError(`${name}[${i}]`, 'number', values[i]);
  }
}
