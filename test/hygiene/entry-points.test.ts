// The package's two entry points (STYLE §1, §32): src/index.ts must stay browser-safe through
// every transitive import; src/node.ts must load and expose the main API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function transitiveImports(entry: string): { files: string[]; external: string[] } {
  const seen = new Set<string>();
  const external: string[] = [];
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    if (/\bBuffer\.|\bprocess\./.test(text)) external.push(`${relative(root, file)} uses Buffer/process`);
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else external.push(`${relative(root, file)} imports ${spec}`);
    }
  };
  visit(entry);
  return { files: [...seen], external };
}

test('src/index.ts (browser entry) reaches no node: module, package, Buffer or process', () => {
  const { files, external } = transitiveImports(resolve(root, 'src/index.ts'));
  assert.ok(files.length > 10, 'the browser entry should pull in the format codecs');
  assert.deepEqual(external, []);
});

test('package.json maps the entries to dist/: types first, browser → bundle, default → node, ./format, bin', () => {
  const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
  const dot = pkg.exports['.'];
  assert.deepEqual(Object.keys(dot), ['types', 'browser', 'default']);
  assert.deepEqual(dot.browser, { types: './dist/browser.d.ts', default: './dist/browser/picpac.js' });
  assert.equal(dot.types, './dist/node.d.ts');
  assert.equal(dot.default, './dist/node.js');
  assert.deepEqual(pkg.exports['./format'], { types: './dist/index.d.ts', default: './dist/index.js' });
  assert.equal(pkg.bin.picpac, 'dist/cli/bin.js');
  // Each dist path is the build of a source entry (scripts/build.mjs, tsconfig.build.json).
  for (const [built, source] of [['dist/node.js', 'src/node.ts'], ['dist/index.js', 'src/index.ts'], ['dist/browser.d.ts', 'src/browser.ts'], ['dist/cli/bin.js', 'src/cli/bin.ts']]) {
    assert.ok(existsSync(resolve(root, source)), `${built} is built from ${source}`);
  }
});

test('src/browser.ts (the browser bundle) reaches node: modules only through the two stand-ins scripts/build.mjs swaps', () => {
  const { external } = transitiveImports(resolve(root, 'src/browser.ts'));
  // regular-file.ts is imported only by file-source.ts (and by Node-only modules the bundle does not reach).
  const allowed = /^src\/engine\/(sources\/file-source|sources\/regular-file|picpac\/crc-native)\.ts (imports node:|uses Buffer)/;
  assert.deepEqual(external.filter((e) => !allowed.test(e)), []);
});

test('the node entry exposes the main API', async () => {
  const api = await import('../../src/node.ts');
  for (const name of ['ImageStream', 'LmdbStore', 'LmdbWriter', 'ViewerServer', 'openStore', 'PicpacWriter', 'PicpacReader', 'verifyStore', 'V1Reader', 'V1Writer', 'encodeFileImage', 'crc32c', 'FormatError', 'parseStreamConfig', 'Sampler']) {
    assert.equal(typeof (api as Record<string, unknown>)[name], 'function', name);
  }
});
