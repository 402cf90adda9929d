// The sample-order engine of the training stream: which record comes next. Pure (no I/O, no
// pixels): it sees only per-record group values. Same semantics as the original PicPac stream
// (REFERENCE §1.2.1), made deterministic by position, resumable, and rank-aware.
//
// Open (once, sampler-groups.ts): main records, then the kept mixin records with their group
// reset/shifted; kfoldPlan groups them (stratify or oversample: by integral value, else one
// group), shuffles each group and keeps the selected chunks. S = size() = selected records,
// G = non-empty groups, n_g = records of group g.
//
// The global stream (identical on every rank) is a function of the global position t:
//   loop:     group g = t mod G, draw d = ⌊t / G⌋ of that group; the group's pass p = ⌊d / n_g⌋ is
//             its records in the open-time order (p = 0) or, with reshuffle, that order shuffled by
//             Rng(seed, RNG_TAG.reshuffle, groupKey, p). This is the original's round-robin ("visit
//             groups cyclically, take the next of the current group, rewind + reshuffle on
//             exhaustion"); with one group it is plain epochs of a permutation.
//   no loop:  the same round-robin, but an exhausted group drops out (round r serves the groups
//             with more than r records, in order); the stream has exactly S samples.
//
// Epoch: one epoch = S consecutive global positions, [e·S, (e+1)·S). With one group an epoch is
// one pass (each selected record exactly once); with round-robin it is S draws (balanced per
// group, small groups repeated). A non-looping stream has exactly one epoch.
//
// Ranks: every rank computes the same global order; within each epoch rank r takes the epoch
// offsets o = j·W + r for j = 0..L-1, L = epochSize() = ⌈S / W⌉. Offsets o ≥ S (only the last j,
// only when W does not divide S) wrap to o mod S of the same epoch and are flagged `padded`
// (PyTorch DistributedSampler's rule): all ranks take the same number of samples, disjoint except
// for those ≤ W-1 flagged repeats per epoch, and together they cover every position of the epoch.
//
// Position: { epoch, offset } of this rank, 0 ≤ offset < L, as reported by position() before the
// next sample. A sampler constructed with resume_epoch/resume_offset (or seek()) yields exactly the
// remaining sequence of an uninterrupted one. Cost: O(1) amortized per sample for W = 1 (a pass is
// shuffled once per n_g draws); with W ranks each rank still shuffles whole passes, so O(W)
// amortized, like every rank computing the full permutation. No allocation per sample.

import { RNG_TAG, Rng } from '../../engine/rng.ts';
import { invalidParameterError, outOfRangeError } from '../../errors.ts';
import type { StreamConfig } from '../config-schema.ts';
import { parseStreamConfig, type StreamConfigInput } from '../config.ts';
import { planSelection, type SamplerInput } from './sampler-groups.ts';

export type { SamplerInput } from './sampler-groups.ts';

export interface StreamPosition {
  /** Epoch of this rank's stream (0-based). */
  readonly epoch: number;
  /** Samples this rank has taken in `epoch`, in [0, epochSize()). */
  readonly offset: number;
}

/** One sample of the order. Reused by `nextInto` (no allocation per sample). */
export interface SampleSlot {
  /** Record index within its source. */
  recordIndex: number;
  /** 0 = main store, 1 = mixin store. */
  sourceIndex: number;
  /** Position of this sample in this rank's stream. */
  epoch: number;
  offset: number;
  /**
   * Offset of the sample in the epoch's global order (the same on every rank, whatever the
   * world_size). Seed per-sample randomness with it, e.g. `new Rng(seed, RNG_TAG.perturb, epoch,
   * globalOffset)`, so augmentations do not depend on rank count or thread count.
   */
  globalOffset: number;
  /** True for the wrap-around repeat that keeps ranks equal (at most one per rank per epoch). */
  padded: boolean;
}

export interface TakeOptions {
  /** Receives sourceIndex per sample. */
  sourceIndices?: Uint8Array;
  /** Receives 1 for padded samples, else 0. */
  padded?: Uint8Array;
  /** Samples to take (default recordIndices.length). */
  count?: number;
}

export function createSampleSlot(): SampleSlot {
  return { recordIndex: 0, sourceIndex: 0, epoch: 0, offset: 0, globalOffset: 0, padded: false };
}

/**
 * The sample order of the training stream: which record comes next, from the records' group
 * values alone (no I/O, no pixels). Same semantics as the original PicPac stream (shuffle,
 * stratify, split, mixin, loop), but deterministic by position: resumable from any
 * `StreamPosition` (`position()`, `seek()`), and split across ranks (`world_size`) without overlap.
 * @throws TypeError / RangeError for invalid parameters (as {@link parseStreamConfig}).
 */
export class Sampler implements IterableIterator<SampleSlot> {
  /** The validated configuration (a full StreamConfig; the sampler reads its order keys). */
  readonly config: StreamConfig;
  /** Fallbacks taken (stratify disabled, empty groups, ...): never thrown, surfaced here. */
  readonly warnings: readonly string[];
  /** Group key of each served group: category value, or -1 for the single pooled group. */
  readonly groupKeys: readonly number[];
  /** True when groups are served round-robin by category. */
  readonly stratified: boolean;
  /** Number of served (non-empty) groups G. */
  readonly groupCount: number;

  private readonly mainCount: number;
  private readonly mixinCount: number;
  private readonly mixinRecords: Uint32Array;
  private readonly groupStart: Uint32Array;
  private readonly groupKey: Int32Array;
  private readonly base: Uint32Array;
  private readonly order: Uint32Array;
  private readonly orderPass: Float64Array;
  private readonly selected: number;
  private readonly perEpoch: number;
  private readonly worldSize: number;
  private readonly rank: number;
  private readonly loop: boolean;
  private readonly reshuffled: boolean;
  private readonly seed: number;
  private scratch: Uint32Array | undefined;
  private readonly slot = createSampleSlot();

  private epoch = 0;
  private offset = 0;

  // Non-looping round-robin (G > 1): forward state machine over rounds.
  private readonly active: Uint32Array;
  private activeCount = 0;
  private round = 0;
  private roundIndex = 0;
  private roundPosition = 0;

  /**
   * @param input group values of the main store (and of the mixin store)
   * @param config stream parameters (parseStreamConfig input or result); the sampler uses seed,
   *   loop, shuffle, reshuffle, stratify, oversample, split*, mixin_group_*, mixin_max,
   *   mixin_randomize, rank, world_size, resume_epoch, resume_offset
   */
  constructor(input: SamplerInput, config: StreamConfigInput = {}) {
    this.config = parseStreamConfig(config);
    const c = this.config;
    const plan = planSelection(input, c);
    this.mainCount = plan.mainCount;
    this.mixinCount = plan.mixinCount;
    this.mixinRecords = plan.mixinRecords;
    this.seed = c.seed;
    this.loop = c.loop;
    this.worldSize = c.world_size;
    this.rank = c.rank;
    this.stratified = plan.stratified;
    this.groupKeys = Object.freeze([...plan.groupKeys]);
    this.groupKey = Int32Array.from(plan.groupKeys);
    this.groupCount = plan.groupKeys.length;
    this.groupStart = plan.groupStart;
    this.base = plan.base;
    this.selected = plan.base.length;
    this.reshuffled = c.loop && c.reshuffle && this.selected > 0;
    this.order = this.reshuffled ? new Uint32Array(this.selected) : this.base;
    this.orderPass = new Float64Array(this.groupCount).fill(-1);
    this.perEpoch = Math.ceil(this.selected / this.worldSize);
    this.active = new Uint32Array(this.loop ? 0 : this.groupCount);
    const warnings = plan.warnings;
    if (this.worldSize > this.selected && this.selected > 0) {
      warnings.push(`world_size ${this.worldSize} exceeds the ${this.selected} selected records; ranks repeat records (flagged padded) to keep equal shares`);
    }
    this.warnings = Object.freeze(warnings);
    this.seek({ epoch: c.resume_epoch, offset: c.resume_offset });
  }

  /** Selected records S (after mixin truncation and the split). */
  size(): number {
    return this.selected;
  }

  /** Records in the store(s): main records + all mixin records (before mixin_max). */
  total(): number {
    return this.mainCount + this.mixinCount;
  }

  /** Samples this rank takes per epoch: ⌈size() / world_size⌉. */
  epochSize(): number {
    return this.perEpoch;
  }

  /** Position of the next sample. Pass it back as resume_epoch/resume_offset (or to seek) to continue. */
  position(): StreamPosition {
    return { epoch: this.epoch, offset: this.offset };
  }

  /** True when a non-looping (or empty) stream has no samples left. */
  done(): boolean {
    return this.perEpoch === 0 || (!this.loop && this.epoch >= 1);
  }

  /** Jump to a position (any direction). A non-looping stream is done at any epoch ≥ 1. */
  seek(position: StreamPosition): void {
    if (typeof position !== 'object' || position === null) throw invalidParameterError('position', 'object { epoch, offset }', position);
    const { epoch, offset } = position;
    if (typeof epoch !== 'number') throw invalidParameterError('resume_epoch', 'non-negative safe integer', epoch);
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw outOfRangeError('resume_epoch', 'non-negative safe integer', epoch);
    const maxOffset = Math.max(0, this.perEpoch - 1);
    if (typeof offset !== 'number') throw invalidParameterError('resume_offset', `integer between 0 and ${maxOffset}`, offset);
    if (!Number.isInteger(offset) || offset < 0 || offset > maxOffset) {
      throw outOfRangeError('resume_offset', `integer between 0 and ${maxOffset}`, offset);
    }
    if (epoch * this.selected + this.perEpoch * this.worldSize > Number.MAX_SAFE_INTEGER) {
      throw outOfRangeError('resume_epoch', `integer at most ${Math.floor(Number.MAX_SAFE_INTEGER / Math.max(1, this.selected)) - 1}`, epoch);
    }
    this.epoch = epoch;
    this.offset = offset;
  }

  /** Back to the start ({ epoch: 0, offset: 0 }); the same sequence replays. */
  reset(): void {
    this.seek({ epoch: 0, offset: 0 });
  }

  /** Write the next sample into `slot`; false (slot untouched) when the stream is done. */
  nextInto(slot: SampleSlot): boolean {
    if (this.done()) return false;
    const S = this.selected;
    // Offset in the epoch padded up to L·W positions; positions ≥ S wrap to the epoch start.
    const paddedOffset = this.offset * this.worldSize + this.rank;
    const padded = paddedOffset >= S;
    const epochOffset = padded ? paddedOffset % S : paddedOffset;
    let combined: number;
    if (this.loop || this.groupCount === 1) combined = this.cyclic(this.epoch * S + epochOffset, padded);
    else combined = padded ? this.roundRobinAt(epochOffset) : this.roundRobinForward(epochOffset);
    if (combined < this.mainCount) {
      slot.recordIndex = combined;
      slot.sourceIndex = 0;
    } else {
      slot.recordIndex = this.mixinRecords[combined - this.mainCount];
      slot.sourceIndex = 1;
    }
    slot.epoch = this.epoch;
    slot.offset = this.offset;
    slot.globalOffset = epochOffset;
    slot.padded = padded;
    // Branch-free: the epoch's last sample takes the same stores as every other, so optimised
    // code compiled during the first epoch is not thrown away at its end.
    const wraps = this.offset + 1 === this.perEpoch;
    this.offset = wraps ? 0 : this.offset + 1;
    this.epoch += wraps ? 1 : 0;
    return true;
  }

  /**
   * Fill `recordIndices` (and optionally sourceIndices / padded flags) with the next samples.
   * Returns how many were written (fewer only when a non-looping stream ends).
   */
  take(recordIndices: Uint32Array, options: TakeOptions = {}): number {
    if (!(recordIndices instanceof Uint32Array)) throw invalidParameterError('recordIndices', 'Uint32Array', recordIndices);
    const count = options.count ?? recordIndices.length;
    const limit = Math.min(recordIndices.length, options.sourceIndices?.length ?? Infinity, options.padded?.length ?? Infinity);
    if (!Number.isInteger(count) || count < 0 || count > limit) throw outOfRangeError('count', `integer between 0 and ${limit}`, count);
    const slot = this.slot;
    let i = 0;
    for (; i < count && this.nextInto(slot); i++) {
      recordIndices[i] = slot.recordIndex;
      if (options.sourceIndices) options.sourceIndices[i] = slot.sourceIndex;
      if (options.padded) options.padded[i] = slot.padded ? 1 : 0;
    }
    return i;
  }

  /** Iterator protocol (allocates one slot object per sample; use nextInto/take in hot loops). */
  next(): IteratorResult<SampleSlot> {
    const slot = createSampleSlot();
    return this.nextInto(slot) ? { value: slot, done: false } : { value: undefined, done: true };
  }

  /** The sampler is its own iterator: `for (const slot of sampler)` continues from the current position. */
  [Symbol.iterator](): this {
    return this;
  }

  /** One line for logs: records selected, grouping, split, looping, seed, rank and samples per epoch. */
  describe(): string {
    const c = this.config;
    const serving = this.stratified ? `round-robin over ${this.groupCount} groups` : 'one group';
    const split = c.split > 1 ? `, split ${c.split} fold ${c.split_fold}${c.split_negate ? ' negated' : ''}` : '';
    const ranks = this.worldSize > 1 ? `, rank ${this.rank}/${this.worldSize}` : '';
    return `sampler(${this.selected} of ${this.total()} records, ${serving}${split}, ${c.loop ? 'loop' : 'one epoch'}, seed ${c.seed}${ranks}, ${this.perEpoch} per epoch)`;
  }

  // ----- order functions -----

  /** Loop formula (also the non-looping single group): combined record index at global position t. */
  private cyclic(t: number, padded: boolean): number {
    const G = this.groupCount;
    const g = G === 1 ? 0 : t % G;
    const draw = G === 1 ? t : Math.floor(t / G);
    const start = this.groupStart[g];
    const size = this.groupStart[g + 1] - start;
    if (!this.reshuffled) return this.base[start + (draw % size)];
    const pass = Math.floor(draw / size);
    const index = draw - pass * size;
    if (this.orderPass[g] === pass) return this.order[start + index];
    if (padded) {
      // Out-of-sequence lookup: do not disturb the cached pass of the sequential path.
      const scratch = (this.scratch ??= new Uint32Array(this.largestGroup()));
      this.fillPass(g, pass, scratch, 0);
      return scratch[index];
    }
    this.fillPass(g, pass, this.order, start);
    this.orderPass[g] = pass;
    return this.order[start + index];
  }

  /** Write group g's order for `pass` into target[at, at + n_g). */
  private fillPass(g: number, pass: number, target: Uint32Array, at: number): void {
    const start = this.groupStart[g];
    const end = this.groupStart[g + 1];
    target.set(this.base.subarray(start, end), at);
    if (pass > 0) new Rng(this.seed, RNG_TAG.reshuffle, this.groupKey[g], pass).shuffleRange(target, at, at + end - start);
  }

  private largestGroup(): number {
    let largest = 0;
    for (let g = 0; g < this.groupCount; g++) largest = Math.max(largest, this.groupStart[g + 1] - this.groupStart[g]);
    return largest;
  }

  /** Non-looping round-robin, sequential: advance the round state to epoch offset t (rewinding if behind). */
  private roundRobinForward(t: number): number {
    if (t < this.roundPosition || this.activeCount === 0) {
      this.activeCount = this.groupCount;
      for (let g = 0; g < this.groupCount; g++) this.active[g] = g;
      this.round = 0;
      this.roundIndex = 0;
      this.roundPosition = 0;
    }
    let delta = t - this.roundPosition;
    while (this.roundIndex + delta >= this.activeCount) {
      delta -= this.activeCount - this.roundIndex;
      this.roundIndex = 0;
      this.round++;
      let kept = 0;
      for (let k = 0; k < this.activeCount; k++) {
        const g = this.active[k];
        if (this.groupStart[g + 1] - this.groupStart[g] > this.round) this.active[kept++] = g;
      }
      this.activeCount = kept;
      if (kept === 0) throw new RangeError(`position ${t} is beyond the ${this.selected} samples of the stream`); // unreachable: t < S
    }
    this.roundIndex += delta;
    this.roundPosition = t;
    const g = this.active[this.roundIndex];
    return this.base[this.groupStart[g] + this.round];
  }

  /** Non-looping round-robin, random access (used for the padded wrap, t < world_size). */
  private roundRobinAt(t: number): number {
    let remaining = t;
    for (let round = 0; ; round++) {
      let count = 0;
      for (let g = 0; g < this.groupCount; g++) if (this.groupStart[g + 1] - this.groupStart[g] > round) count++;
      if (remaining < count) {
        for (let g = 0; g < this.groupCount; g++) {
          if (this.groupStart[g + 1] - this.groupStart[g] > round && remaining-- === 0) return this.base[this.groupStart[g] + round];
        }
      }
      remaining -= count;
    }
  }
}
