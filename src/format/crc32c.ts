// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, init 0xFFFFFFFF, xorout 0xFFFFFFFF
// [CRC-1]. Pure JS, slicing-by-8: eight 256-entry tables let the loop consume 8 bytes per step.
// The engine may install a native implementation (@node-rs/crc32) through
// setCrc32cImplementation; both must agree on the known answer crc32c("123456789") = 0xE3069283.
import { invalidParameterError } from '../errors.ts';

const POLYNOMIAL = 0x82f63b78;

// 8 × 256 entries, built on first use. Int32, not Uint32: every value the loops handle then stays a
// 32-bit integer (a Uint32 entry or `~seed >>> 0` above 2^31 is a double to the optimising
// compiler, whose int32 guess then fails: a "lost precision" deoptimisation and a recompile in
// every thread). XOR and shifts see the same bits either way; results are made unsigned at the end.
let tables: Int32Array | undefined;

function buildTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i];
    for (let s = 1; s < 8; s++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[s * 256 + i] = c;
    }
  }
  return t;
}

/**
 * CRC-32C of `bytes`. `seed` is the CRC of the bytes before these (default 0), so
 * `crc32c(b, crc32c(a))` equals the CRC of a followed by b.
 */
function crc32cJs(bytes: Uint8Array, seed = 0): number {
  const t = (tables ??= buildTables());
  let crc = ~seed;
  let i = 0;
  const end8 = bytes.length - (bytes.length & 7);
  while (i < end8) {
    const a = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) ^ crc;
    const b = bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24);
    crc =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + (b & 0xff)] ^
      t[512 + ((b >>> 8) & 0xff)] ^
      t[256 + ((b >>> 16) & 0xff)] ^
      t[b >>> 24];
    i += 8;
  }
  for (; i < bytes.length; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

let implementation: (bytes: Uint8Array, seed?: number) => number = crc32cJs;

/** Below this length the JS loop beats a native call (frame headers are 12 bytes). */
const SHORT_BYTES = 64;

/** CRC-32C (Castagnoli) of `bytes`, continuing from `seed` (a previous result; default 0). */
export function crc32c(bytes: Uint8Array, seed?: number): number {
  return bytes.length < SHORT_BYTES ? crc32cJs(bytes, seed) : implementation(bytes, seed);
}

/** CRC-32C of bytes[start, end) without making a view (pure JS: meant for short ranges such as frame headers). */
export function crc32cRange(bytes: Uint8Array, start: number, end: number): number {
  const t = (tables ??= buildTables());
  let crc = -1; // 0xFFFFFFFF as an int32
  for (let i = start; i < end; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/**
 * Install a faster CRC-32C later, when it pays: the JS loop serves the first `afterBytes` bytes
 * (of calls ≥ 64 bytes), then `load` runs once and should call {@link setCrc32cImplementation}
 * (if it does not, the JS loop stays). The engine passes its native loader this way because
 * loading @node-rs/crc32 costs ~25 ms, more than a short command (`picpac stat`, `--help`)
 * spends hashing an index block in JS.
 * @param load installs the faster implementation; must not throw
 * @param afterBytes bytes to hash in JS first (0: load on the first call)
 */
export function setCrc32cLoader(load: () => void, afterBytes: number): void {
  if (typeof load !== 'function') throw invalidParameterError('load', 'a function', load);
  if (!(afterBytes >= 0)) throw invalidParameterError('afterBytes', 'a number >= 0', afterBytes);
  let remainingBytes = afterBytes;
  const pending = (bytes: Uint8Array, seed?: number): number => {
    remainingBytes -= bytes.length;
    if (remainingBytes >= 0) return crc32cJs(bytes, seed);
    if (implementation === pending) implementation = crc32cJs; // load() may fail to install
    load();
    return implementation(bytes, seed);
  };
  implementation = pending;
}

/**
 * Install a faster CRC-32C (the engine passes @node-rs/crc32's `crc32c`); `undefined` restores
 * the pure JS one. The candidate must pass the known answer, else a TypeError is thrown.
 */
export function setCrc32cImplementation(fn: ((bytes: Uint8Array, seed?: number) => number) | undefined): void {
  if (fn === undefined) {
    implementation = crc32cJs;
    return;
  }
  if (typeof fn !== 'function') throw invalidParameterError('fn', 'a function or undefined', fn);
  const check = new TextEncoder().encode('123456789');
  const answer = fn(check) >>> 0;
  const continued = fn(check.subarray(4), fn(check.subarray(0, 4))) >>> 0;
  if (answer !== 0xe3069283 || continued !== 0xe3069283) {
    throw invalidParameterError('fn', 'a CRC-32C function returning 0xE3069283 for "123456789"', fn);
  }
  implementation = (bytes, seed) => fn(bytes, seed) >>> 0;
}
