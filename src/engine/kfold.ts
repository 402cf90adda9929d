// K-fold selection with the original PicPac's semantics (REFERENCE §1.2.1), shared by
// `picpac split` and the training stream's sampler:
//   1. groups: one per integral group value when `stratify` (values must be integers in
//      [0, MAX_CATEGORIES)), else one group; otherwise fall back to one group with a warning
//      (the original v1 aborted, HEAD logged "Stratefication disabled");
//   2. each group in file order, shuffled with its own seeded generator when `shuffle`;
//   3. each group of n cut into K contiguous chunks [⌊n·k/K⌋, ⌊n·(k+1)/K⌋); keep every chunk
//      except `fold`, or only `fold` with `negate`, or exactly `keys` when fold = -1 (the
//      complement of `keys` with `negate`). K = 1 keeps everything.
// Shuffles are not bit-compatible with the original (std::default_random_engine): the contract
// is "disjoint, covering, balanced, deterministic for a seed", not the C++ permutation.

import { invalidParameterError, outOfRangeError } from '../errors.ts';
import { RNG_TAG, Rng } from './rng.ts';

/** Largest integral group value + 1 usable for stratification (the original's MAX_CATEGORIES). */
export const MAX_CATEGORIES = 2000;
/** Largest K accepted (keeps n·k exact in doubles for any 32-bit record count). */
export const MAX_SPLIT = 65536;
/** Default seed of the original stream. */
export const DEFAULT_SEED = 2016;
/** Group key of the single pooled group (no stratification). */
export const POOLED_GROUP = -1;

export interface KfoldOptions {
  /** K, integer in [1, 65536]. */
  split: number;
  /** Held-out chunk in [0, K), or -1 together with `keys`. K = 1 requires 0. */
  fold: number;
  /** Keep only the held-out side (validation) instead of the rest (training). Default false. */
  negate?: boolean;
  /** Exact chunks to keep (requires fold = -1), integers in [0, K); sorted and de-duplicated. */
  keys?: number[];
  /** Split each integral group value separately (stratified split). Default false. */
  stratify?: boolean;
  /** Shuffle each group before cutting. Default true. */
  shuffle?: boolean;
  /** Seed of the shuffles, any safe integer. Default 2016. */
  seed?: number;
}

export interface GroupPlan {
  /** Category value of each group (ascending), or POOLED_GROUP for the single unstratified group. */
  keys: number[];
  /** Selected record indices of each group, in shuffled (or file) order, chunks in ascending order. */
  members: Uint32Array[];
  /** True when records were grouped by value; false when pooled (asked or fallen back). */
  stratified: boolean;
  /** Why stratification was disabled, empty groups, ... (never thrown: the caller decides). */
  warnings: string[];
}

/** The chunk indices kept for (split, fold, negate, keys), validated; ascending. */
export function keptChunks(options: Pick<KfoldOptions, 'split' | 'fold' | 'negate' | 'keys'>): number[] {
  const { split, fold } = options;
  const negate = options.negate ?? false;
  const keys = options.keys ?? [];
  checkInteger('split', split, 1, MAX_SPLIT);
  checkInteger('fold', fold, -1, split - 1);
  if (typeof negate !== 'boolean') throw invalidParameterError('negate', 'boolean', negate);
  if (!Array.isArray(keys)) throw invalidParameterError('keys', `list of integers between 0 and ${split - 1}`, keys);
  for (const key of keys) {
    if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key >= split) {
      throw outOfRangeError('keys', `list of integers between 0 and ${split - 1}`, keys);
    }
  }
  if (split === 1) {
    if (fold !== 0) throw outOfRangeError('fold', '0 when split is 1', fold);
    if (negate) throw invalidParameterError('negate', 'false when split is 1', negate);
    return [0];
  }
  let kept: number[];
  if (keys.length > 0) {
    if (fold !== -1) throw outOfRangeError('fold', '-1 when keys are given', fold);
    kept = [...new Set(keys)].sort((x, y) => x - y);
  } else {
    if (fold === -1) throw invalidParameterError('keys', `non-empty list of integers between 0 and ${split - 1} when fold is -1`, keys);
    kept = [];
    for (let k = 0; k < split; k++) if (k !== fold) kept.push(k);
  }
  if (negate) {
    const excluded = new Set(kept);
    kept = [];
    for (let k = 0; k < split; k++) if (!excluded.has(k)) kept.push(k);
  }
  return kept;
}

/**
 * Bucket record indices by group value. Stratified when asked and every value is an integer in
 * [0, MAX_CATEGORIES); otherwise one pooled group and a warning saying why. Members are in file
 * order; groups with no records do not appear.
 */
export function bucketGroups(groups: ArrayLike<number>, options: { stratify?: boolean } = {}): GroupPlan {
  checkGroups(groups);
  const count = groups.length;
  const warnings: string[] = [];
  let stratified = options.stratify ?? false;
  if (stratified) {
    for (let i = 0; i < count; i++) {
      const value = groups[i];
      if (!(Number.isInteger(value) && value >= 0)) {
        warnings.push(`stratify disabled: group value ${value} of record ${i} is not a non-negative integer; all records form one group`);
        stratified = false;
        break;
      }
      if (value >= MAX_CATEGORIES) {
        warnings.push(`stratify disabled: group value ${value} of record ${i} exceeds the ${MAX_CATEGORIES}-category limit; all records form one group`);
        stratified = false;
        break;
      }
    }
  }
  if (!stratified) {
    const all = new Uint32Array(count);
    for (let i = 0; i < count; i++) all[i] = i;
    return { keys: count > 0 ? [POOLED_GROUP] : [], members: count > 0 ? [all] : [], stratified: false, warnings };
  }
  const sizes = new Uint32Array(MAX_CATEGORIES);
  for (let i = 0; i < count; i++) sizes[groups[i]]++;
  const keys: number[] = [];
  const members: Uint32Array[] = [];
  const slot = new Int32Array(MAX_CATEGORIES).fill(-1);
  for (let c = 0; c < MAX_CATEGORIES; c++) {
    if (sizes[c] === 0) continue;
    slot[c] = keys.length;
    keys.push(c);
    members.push(new Uint32Array(sizes[c]));
  }
  const fill = new Uint32Array(keys.length);
  for (let i = 0; i < count; i++) {
    const g = slot[groups[i]];
    members[g][fill[g]++] = i;
  }
  return { keys, members, stratified: true, warnings };
}

/**
 * The whole open-time plan: bucket, shuffle each group (`new Rng(seed, RNG_TAG.shuffle, key)`, so a
 * group's order does not depend on the other groups), keep the selected chunks. Groups left
 * empty by the split are dropped with a warning.
 */
export function kfoldPlan(groups: ArrayLike<number>, options: KfoldOptions): GroupPlan {
  checkOptions(options);
  const kept = keptChunks(options);
  const shuffle = options.shuffle ?? true;
  const seed = options.seed ?? DEFAULT_SEED;
  const plan = bucketGroups(groups, { stratify: options.stratify });
  const split = options.split;
  const keys: number[] = [];
  const members: Uint32Array[] = [];
  for (let g = 0; g < plan.keys.length; g++) {
    const all = plan.members[g];
    if (shuffle) new Rng(seed, RNG_TAG.shuffle, plan.keys[g]).shuffle(all);
    const selected = split === 1 ? all : cutChunks(all, split, kept);
    if (selected.length === 0) {
      plan.warnings.push(
        plan.stratified
          ? `group ${plan.keys[g]} has no records after the split (${all.length} records, split ${split}); it is skipped`
          : `no records left after the split (${all.length} records, split ${split})`,
      );
      continue;
    }
    keys.push(plan.keys[g]);
    members.push(selected);
  }
  return { keys, members, stratified: plan.stratified, warnings: plan.warnings };
}

/**
 * Selected record indices: groups in ascending value order, each in its shuffled order with the
 * kept chunks in ascending chunk order. Deterministic for (groups, options).
 */
export function kfoldSelect(groups: ArrayLike<number>, options: KfoldOptions): Uint32Array {
  const plan = kfoldPlan(groups, options);
  let total = 0;
  for (const m of plan.members) total += m.length;
  const out = new Uint32Array(total);
  let at = 0;
  for (const m of plan.members) {
    out.set(m, at);
    at += m.length;
  }
  return out;
}

/** Concatenate chunks `kept` of `all` cut into `split` contiguous parts. */
function cutChunks(all: Uint32Array, split: number, kept: number[]): Uint32Array {
  const n = all.length;
  let total = 0;
  for (const k of kept) total += Math.floor((n * (k + 1)) / split) - Math.floor((n * k) / split);
  const out = new Uint32Array(total);
  let at = 0;
  for (const k of kept) {
    const begin = Math.floor((n * k) / split);
    const end = Math.floor((n * (k + 1)) / split);
    out.set(all.subarray(begin, end), at);
    at += end - begin;
  }
  return out;
}

function checkOptions(options: KfoldOptions): void {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
  if (options.stratify !== undefined && typeof options.stratify !== 'boolean') {
    throw invalidParameterError('stratify', 'boolean', options.stratify);
  }
  if (options.shuffle !== undefined && typeof options.shuffle !== 'boolean') {
    throw invalidParameterError('shuffle', 'boolean', options.shuffle);
  }
  if (options.seed !== undefined) {
    if (typeof options.seed !== 'number') throw invalidParameterError('seed', 'safe integer', options.seed);
    if (!Number.isSafeInteger(options.seed)) throw outOfRangeError('seed', 'safe integer', options.seed);
  }
}

function checkGroups(groups: ArrayLike<number>): void {
  if (typeof groups !== 'object' || groups === null || typeof groups.length !== 'number') {
    throw invalidParameterError('groups', 'array of numbers', groups);
  }
  if (groups.length >= 0x1_0000_0000) throw outOfRangeError('groups', 'fewer than 2^32 values', groups.length);
}

function checkInteger(name: string, value: unknown, min: number, max: number): void {
  const constraint = `integer between ${min} and ${max}`;
  if (typeof value !== 'number') throw invalidParameterError(name, constraint, value);
  if (!Number.isInteger(value) || value < min || value > max) throw outOfRangeError(name, constraint, value);
}
