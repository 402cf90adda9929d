import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseByteSize } from '../../src/engine/byte-size.ts';

test('sizes: decimal and binary units, plain numbers', () => {
  assert.equal(parseByteSize('512MB'), 512e6);
  assert.equal(parseByteSize('20GB'), 20e9);
  assert.equal(parseByteSize('64MiB'), 64 * 2 ** 20);
  assert.equal(parseByteSize('1.5GiB'), 1.5 * 2 ** 30);
  assert.equal(parseByteSize('4096'), 4096);
  assert.equal(parseByteSize('10k'), 10240);
  assert.equal(parseByteSize(' 3 kb '), 3000);
  assert.equal(parseByteSize(77), 77);
});

test('sizes: anything else is a TypeError naming the parameter', () => {
  for (const bad of ['', 'MB', '-1MB', '12 parsecs', '1e400', 'NaN']) assert.throws(() => parseByteSize(bad, '--shard-size'), /--shard-size/);
  assert.throws(() => parseByteSize(-1), TypeError);
  assert.throws(() => parseByteSize(1.5), TypeError);
});
