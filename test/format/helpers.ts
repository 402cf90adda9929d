// Assertions shared by the format tests.
import assert from 'node:assert/strict';
import { FormatError } from '../../src/errors.ts';

type ErrorClass = new (...args: never[]) => FormatError;

/** `fn` throws exactly `cls` (not a subclass unless cls is FormatError) with the given fields. */
export function throwsFormat(fn: () => unknown, cls: ErrorClass, fields: Partial<Pick<FormatError, 'section' | 'byteOffset' | 'recordIndex' | 'expected' | 'actual'>> & { message?: RegExp } = {}): FormatError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  const err = caught as FormatError;
  if (cls === FormatError) assert.equal(err.code, 'FORMAT', `expected a plain FormatError, got ${err.name}: ${err.message}`);
  const { message, ...rest } = fields;
  for (const [k, v] of Object.entries(rest)) assert.deepEqual((err as unknown as Record<string, unknown>)[k], v, `${k} of ${err.message}`);
  if (message) assert.match(err.message, message);
  return err;
}

export const utf8 = new TextEncoder();

/** A copy of `bytes` with bit `bit` of byte `byteIndex` flipped. */
export function flipBit(bytes: Uint8Array, byteIndex: number, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[byteIndex] ^= 1 << bit;
  return copy;
}
