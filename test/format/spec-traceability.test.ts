// Traceability (STYLE §40): every requirement ID defined in SPEC.md — every prefix: format,
// engine, recovery, concurrency, shards, 1.0, security — is cited by at least one file under
// test/, in a test name or a comment next to the assertion that enforces it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** IDs defined in SPEC.md: a bracketed ID that starts a normative sentence or paragraph. */
function specIds(): string[] {
  const spec = readFileSync(path.join(root, 'SPEC.md'), 'utf8');
  const ids = new Set<string>();
  for (const m of spec.matchAll(/^\[([A-Z][A-Z0-9]*-\d+)\]/gm)) ids.add(m[1]);
  return [...ids];
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (/\.(ts|js|mjs)$/.test(name) && p !== fileURLToPath(import.meta.url)) out.push(p);
  }
  return out;
}

test('SPEC.md defines requirement IDs, each once, numbered without gaps', () => {
  const spec = readFileSync(path.join(root, 'SPEC.md'), 'utf8');
  const defined = [...spec.matchAll(/^\[([A-Z][A-Z0-9]*)-(\d+)\]/gm)].map((m) => [m[1], Number(m[2])] as const);
  assert.ok(defined.length > 50);
  const seen = new Set<string>();
  for (const [prefix, n] of defined) {
    const id = `${prefix}-${n}`;
    assert.ok(!seen.has(id), `${id} defined twice`);
    seen.add(id);
  }
  for (const prefix of new Set(defined.map(([p]) => p))) {
    const numbers = defined.filter(([p]) => p === prefix).map(([, n]) => n).sort((a, b) => a - b);
    assert.deepEqual(numbers, numbers.map((_, i) => i + 1), `${prefix} numbered 1..${numbers.length}`);
  }
});

test('every requirement ID is cited under test/', (t) => {
  const corpus = testFiles(path.join(root, 'test')).map((f) => readFileSync(f, 'utf8')).join('\n');
  const ids = specIds();
  const missing = ids.filter((id) => !new RegExp(`\\b${id}\\b`).test(corpus));
  t.diagnostic(`${ids.length - missing.length} of ${ids.length} requirement IDs cited${missing.length > 0 ? `; not cited: ${missing.join(' ')}` : ''}`);
  assert.deepEqual(missing, [], `requirement IDs not cited by any test: ${missing.join(' ')}`);
});
