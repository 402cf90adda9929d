// A small seeded PRNG for everything random in picpac (STYLE §25): shuffles, splits, per-epoch
// reshuffles, perturbation vectors. sfc32 (Chris Doty-Humphrey's Small Fast Counting generator,
// passes PractRand to 2^40+ bytes) seeded through a murmur3-style mixer. Only 32-bit integer math
// (`| 0`, `>>> 0`, Math.imul), so a seed gives the same numbers on every platform and engine.
//
// Streams: `new Rng(seed, a, b)` is an independent generator for the sub-task (a, b) of `seed`,
// e.g. `new Rng(seed, TAG_RESHUFFLE, group, pass)`. Deriving a generator from coordinates, rather
// than drawing from one shared generator in order, is what makes positions resumable: epoch 7's
// order does not depend on having computed epochs 0..6.

import { invalidParameterError, outOfRangeError } from '../errors.ts';

const TWO_POW_32 = 0x1_0000_0000;

/**
 * First sub-stream coordinate of each random stage, so two stages never draw the same numbers:
 * `new Rng(seed, RNG_TAG.reshuffle, group, pass)`, `new Rng(seed, RNG_TAG.perturb, epoch, offset)`.
 */
export const RNG_TAG = {
  /** Open-time shuffle of a group (kfold): (tag, groupKey). */
  shuffle: 1,
  /** Reshuffle of a group when it rewinds (sampler): (tag, groupKey, pass). */
  reshuffle: 2,
  /** mixin_randomize (sampler): (tag). */
  mixin: 3,
  /** Per-sample perturbation vectors (augment). */
  perturb: 4,
} as const;

/** murmur3 fmix32: a bijective avalanche on 32 bits. */
function fmix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkSafeInteger(name: string, value: unknown): number {
  if (typeof value !== 'number') throw invalidParameterError(name, 'safe integer', value);
  if (!Number.isSafeInteger(value)) throw outOfRangeError(name, 'safe integer', value);
  return value;
}

/** Absorb one safe integer (both 32-bit halves, so 2^32 + 1 and 1 differ) into a 32-bit key. Chained, so part order matters. */
function absorb(key: number, value: number, salt: number): number {
  const low = value >>> 0;
  const high = Math.floor(value / TWO_POW_32) | 0;
  let h = fmix32((key + 0x9e3779b9 + Math.imul(salt, 0x7feb352d)) ^ low);
  h = fmix32(h ^ high ^ 0x68e31da4);
  return h;
}

function extendKey(key: number, parts: ArrayLike<number>, name: string): number {
  let h = key;
  for (let i = 0; i < parts.length; i++) h = absorb(h, checkSafeInteger(`${name}[${i}]`, parts[i]), 1);
  return h;
}

/**
 * A 32-bit seed for the sub-task `parts` of `seed`: `deriveSeed(seed, epoch)`,
 * `deriveSeed(seed, TAG, group, pass)`. Every argument must be a safe integer (negative allowed).
 * Deterministic across platforms; different part lists give unrelated seeds (`(s)`, `(s, 0)` and
 * `(s, 0, 0)` all differ).
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  const root = absorb(0x2545f491, checkSafeInteger('seed', seed), 0);
  return extendKey(root, parts, 'parts');
}

/**
 * Seeded pseudo-random generator (sfc32): the same seed and stream coordinates give the same
 * numbers on every platform. Not for cryptography.
 */
export class Rng {
  /** The derived 32-bit key this generator was seeded from (what `fork` extends). */
  readonly key: number;
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  /**
   * @param seed any safe integer
   * @param streams optional sub-stream coordinates (safe integers), e.g. (tag, epoch)
   */
  constructor(seed: number, ...streams: number[]) {
    this.key = deriveSeed(seed, ...streams);
    this.seedFromKey(this.key);
  }

  /** A new generator for the sub-stream `streams` of this one: `new Rng(s, a).fork(b)` ≡ `new Rng(s, a, b)`. The parent's state is not consumed. */
  fork(...streams: number[]): Rng {
    const child: Rng = Object.create(Rng.prototype);
    (child as { key: number }).key = extendKey(this.key, streams, 'streams');
    child.seedFromKey(child.key);
    return child;
  }

  private seedFromKey(key: number): void {
    // splitmix32-style expansion of the key into the 128-bit state; d is sfc32's counter.
    let s = key | 0;
    s = (s + 0x9e3779b9) | 0;
    this.a = fmix32(s) | 0;
    s = (s + 0x9e3779b9) | 0;
    this.b = fmix32(s) | 0;
    s = (s + 0x9e3779b9) | 0;
    this.c = fmix32(s) | 0;
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32(); // discard: sfc32's recommended warm-up
  }

  /** Uniform integer in [0, 2^32). */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** Uniform integer in [0, maxExclusive), unbiased (rejection), for 1 ≤ maxExclusive ≤ 2^32. */
  int(maxExclusive: number): number {
    if (typeof maxExclusive !== 'number') throw invalidParameterError('maxExclusive', 'integer between 1 and 4294967296', maxExclusive);
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > TWO_POW_32) {
      throw outOfRangeError('maxExclusive', 'integer between 1 and 4294967296', maxExclusive);
    }
    return this.below(maxExclusive);
  }

  /** int() without argument checks, for inner loops. */
  private below(maxExclusive: number): number {
    // Reject the lowest (2^32 mod max) values so every residue is equally likely (OpenBSD
    // arc4random_uniform). Doubles hold 2^32 exactly, so the arithmetic is exact.
    const threshold = (TWO_POW_32 - maxExclusive) % maxExclusive;
    let r = this.nextU32();
    while (r < threshold) r = this.nextU32();
    return r % maxExclusive;
  }

  /** Uniform float in [min, max) (min when min = max). */
  uniform(min: number, max: number): number {
    if (typeof min !== 'number') throw invalidParameterError('min', 'finite number', min);
    if (typeof max !== 'number') throw invalidParameterError('max', 'finite number', max);
    if (!Number.isFinite(min)) throw outOfRangeError('min', 'finite number', min);
    if (!Number.isFinite(max) || max < min) throw outOfRangeError('max', `finite number of at least ${min}`, max);
    return min + (max - min) * this.next();
  }

  /** True with the given probability (default ½). */
  chance(probability = 0.5): boolean {
    if (typeof probability !== 'number') throw invalidParameterError('probability', 'number between 0 and 1', probability);
    if (!(probability >= 0 && probability <= 1)) throw outOfRangeError('probability', 'number between 0 and 1', probability);
    return this.next() < probability;
  }

  /** Fisher-Yates shuffle in place (uniform over permutations; length ≤ 2^32). */
  shuffle<T>(array: T[] | Uint32Array): void {
    if (!Array.isArray(array) && !(array instanceof Uint32Array)) {
      throw invalidParameterError('array', 'Array or Uint32Array', array);
    }
    this.shuffleRange(array, 0, array.length);
  }

  /** Shuffle `array[start, end)` in place. Used by the sampler on slices of flat typed arrays. */
  shuffleRange<T>(array: T[] | Uint32Array, start: number, end: number): void {
    if (!Number.isInteger(start) || start < 0 || start > array.length) {
      throw outOfRangeError('start', `integer between 0 and ${array.length}`, start);
    }
    if (!Number.isInteger(end) || end < start || end > array.length) {
      throw outOfRangeError('end', `integer between ${start} and ${array.length}`, end);
    }
    for (let i = end - start - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const a = start + i;
      const b = start + j;
      const tmp = array[a];
      array[a] = array[b];
      array[b] = tmp;
    }
  }
}
