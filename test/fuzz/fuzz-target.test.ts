// The fuzz target in the normal run: every committed regression input, plus a short,
// deterministic burst of mutations of every seed vector. Only PicpacErrors may escape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mutate } from '../../fuzz/mutate.ts';
import { runTarget } from '../../fuzz/target.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function filesIn(dir: string, re: RegExp): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => re.test(n)).sort().map((n) => join(dir, n)) : [];
}

const regressions = filesIn(join(root, 'fuzz/regressions'), /\.bin$/);
const seeds = [...filesIn(join(root, 'test/vectors/v2'), /\.picpac$/), ...filesIn(join(root, 'test/vectors/v1'), /\.db$/)];

test('committed fuzz regressions only raise PicpacErrors', { skip: regressions.length === 0 && 'no regression inputs committed yet' }, async () => {
  for (const file of regressions) await runTarget(new Uint8Array(readFileSync(file)));
});

test('seed vectors mutated 40 times each only raise PicpacErrors (deterministic)', async () => {
  assert.ok(seeds.length >= 5, 'expected the golden vectors to be present');
  let state = 12345;
  const rand = { int: (n: number) => { state = (Math.imul(state, 1103515245) + 12345) >>> 0; return n <= 1 ? 0 : (state >>> 8) % n; } };
  const codes = new Set<string>();
  for (const file of seeds) {
    const seed = new Uint8Array(readFileSync(file));
    for (let k = 0; k < 40; k++) {
      const { outcomes } = await runTarget(mutate(seed, rand));
      outcomes.forEach((o) => codes.add(o));
    }
  }
  // The mutations must actually reach the error paths, or this test proves nothing.
  assert.ok(codes.has('FORMAT'), `outcomes seen: ${[...codes].join(', ')}`);
  assert.ok(codes.has('ok'));
});
