// Layer rule (STYLE §4-5): cli → server | annotate | train → augment → engine → format.
// Every relative import in src/ must point to the same layer or one below; src/format has no
// node: imports and no third-party packages; there are no import cycles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

// Rank: a file may import files of its own rank or lower. Siblings of equal rank
// (server, annotate, train) may not import each other.
const RANK: Record<string, number> = {
  errors: -1, 'optional-import': -0.5, format: 0, engine: 1, augment: 2, server: 3, annotate: 3, train: 3, cli: 4, index: 5, node: 5, browser: 5,
};

function layerOf(file: string): string {
  const rel = relative(src, file).split(sep);
  const top = rel.length === 1 ? rel[0].replace(/\.ts$/, '') : rel[0];
  if (!(top in RANK)) throw new Error(`unknown layer for ${file}`);
  return top;
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTs(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) specs.push(m[1] ?? m[2]);
  return specs;
}

const files = listTs(src);

test('every relative import flows downward (cli → server|annotate|train → augment → engine → format)', () => {
  const violations: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      const to = layerOf(target);
      const bothEntries = ['index', 'node', 'browser'].includes(from) && ['index', 'node', 'browser'].includes(to);
      const ok = from === to || bothEntries || RANK[to] < RANK[from];
      if (!ok) violations.push(`${relative(root, file)} (${from}) imports ${spec} (${to})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('src/format is pure: no node: imports, no packages, no Buffer', () => {
  const violations: string[] = [];
  for (const file of files.filter((f) => layerOf(f) === 'format')) {
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) violations.push(`${relative(root, file)} imports ${spec}`);
    }
    if (/\bBuffer\./.test(readFileSync(file, 'utf8'))) violations.push(`${relative(root, file)} uses Buffer`);
  }
  assert.deepEqual(violations, []);
});

test('src/engine knows no pixels: no sharp, no tfjs', () => {
  const violations: string[] = [];
  for (const file of files.filter((f) => ['engine', 'format'].includes(layerOf(f)))) {
    for (const spec of importsOf(file)) {
      if (/^(sharp|@tensorflow\/|@napi-rs\/image)/.test(spec)) violations.push(`${relative(root, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('tfjs is imported only under src/train', () => {
  const violations = files
    .filter((f) => layerOf(f) !== 'train')
    .flatMap((f) => importsOf(f).filter((s) => s.startsWith('@tensorflow/')).map((s) => `${relative(root, f)} imports ${s}`));
  assert.deepEqual(violations, []);
});

test('no import cycles between files', () => {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const deps = importsOf(file)
      .filter((s) => s.startsWith('.'))
      .map((s) => resolve(dirname(file), s))
      .filter((t) => t.endsWith('.ts'));
    graph.set(file, deps);
  }
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const visit = (f: string, stack: string[]): void => {
    if (state.get(f) === 2) return;
    if (state.get(f) === 1) {
      cycles.push([...stack.slice(stack.indexOf(f)), f].map((p) => relative(root, p)).join(' → '));
      return;
    }
    state.set(f, 1);
    for (const d of graph.get(f) ?? []) visit(d, [...stack, f]);
    state.set(f, 2);
  };
  for (const f of files) visit(f, []);
  assert.deepEqual(cycles, []);
});
