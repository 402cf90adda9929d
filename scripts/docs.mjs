#!/usr/bin/env node
// `npm run docs`: the API reference, generated from the doc comments by TypeDoc into docs/api/
// (HTML; not committed). TypeDoc needs TypeScript's JavaScript API, which the native
// TypeScript 7 compiler this project builds with does not have, so TypeDoc and TypeScript 5.9
// live in their own small package, tools/docs (installed here on first use, from its lockfile).
//
// Every exported symbol of the entries (src/node.ts, src/browser.ts, src/index.ts) must be
// documented: TypeDoc's validation lists the undocumented ones, and this script fails when one
// is not in tools/docs/undocumented-baseline.txt (symbols that predate the check; the list may
// only shrink — `npm run docs -- --update-baseline` rewrites it after documenting some).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tools = path.join(root, 'tools/docs');
const baselineFile = path.join(tools, 'undocumented-baseline.txt');
const updateBaseline = process.argv.includes('--update-baseline');

if (!existsSync(path.join(tools, 'node_modules/typedoc'))) {
  console.log('docs: installing TypeDoc into tools/docs (npm ci)');
  const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: tools, stdio: 'inherit' });
  if (install.status !== 0) process.exit(1);
}

const run = spawnSync(process.execPath, [path.join(tools, 'node_modules/typedoc/bin/typedoc'), '--options', path.join(tools, 'typedoc.json')], { cwd: tools, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
const output = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
if (/Found [1-9]\d* errors?/.test(output) || run.status !== 0 && !/warnings?/.test(output)) {
  console.error(output);
  console.error('docs: TypeDoc failed');
  process.exit(1);
}
// "[warning] node.ThrottledSource.close (CallSignature), defined in picpac/src/…, does not have any documentation"
const undocumented = [...output.matchAll(/\[warning\] (\S+ \(\w+\)), defined in \S+?\/(src\/\S+?), does not have any documentation/g)]
  .map((m) => `${m[2]} ${m[1].replace(/^(node|browser|index)\./, '')}`);
const current = [...new Set(undocumented)].sort();
const otherWarnings = output.split('\n').filter((l) => l.includes('[warning]') && !l.includes('does not have any documentation') && !/Found \d+ errors?/.test(l));
for (const line of otherWarnings) console.warn(line);

if (updateBaseline) {
  writeFileSync(baselineFile, current.join('\n') + '\n');
  console.log(`docs: baseline rewritten, ${current.length} undocumented symbols`);
}
const baseline = new Set(existsSync(baselineFile) ? readFileSync(baselineFile, 'utf8').split('\n').filter(Boolean) : []);
const added = current.filter((s) => !baseline.has(s));
const fixed = [...baseline].filter((s) => !current.includes(s));
console.log(`docs: docs/api/index.html written; ${current.length} undocumented symbols predate the check (tools/docs/undocumented-baseline.txt)`);
if (fixed.length > 0) console.log(`docs: ${fixed.length} baseline symbols are now documented: run 'npm run docs -- --update-baseline'`);
if (added.length > 0) {
  console.error(`docs: exported symbols without a doc comment:\n  ${added.join('\n  ')}`);
  process.exit(1);
}
