#!/usr/bin/env node
// Build the package into dist/ (run by `npm run build`, and by `prepare`/`prepack`, so
// `npm pack`, `npm install <git url>` and a publish all get it):
//   1. tsc -p tsconfig.build.json: one .js + .d.ts + source map per source file; the `.ts`
//      import extensions are rewritten to `.js` (rewriteRelativeImportExtensions). Plain tsc
//      keeps one output file per source, so worker entries, the CLI and the page assets keep
//      their relative paths; the maps give .ts file names and lines for stack traces
//      (`node --enable-source-maps`) without embedding the sources (4 MB: the install-size goal).
//   2. the viewer/annotator page assets (HTML, CSS, browser JS) are copied next to their servers.
//   3. esbuild bundles src/browser.ts into dist/browser/picpac.js, one ES module for a <script
//      type="module"> or another bundler. tsc cannot bundle, and the reader's two Node-only
//      imports (local files, native CRC-32C) must be swapped for browser stand-ins: esbuild
//      (already in the tree through tsx) does both in ~50 ms.
// Plain JavaScript so that it runs without tsx.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

rmSync(dist, { recursive: true, force: true });

const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('build: tsc failed');
  process.exit(1);
}

for (const dir of ['server/pages', 'annotate/page']) {
  cpSync(path.join(root, 'src', dir), path.join(dist, dir), { recursive: true });
}
chmodSync(path.join(dist, 'cli/bin.js'), 0o755);

/** Node-only modules the reader imports → their browser stand-ins. */
const BROWSER_STANDINS = {
  [path.join(root, 'src/engine/sources/file-source.ts')]: path.join(root, 'src/engine/sources/file-source.browser.ts'),
  [path.join(root, 'src/engine/picpac/crc-native.ts')]: path.join(root, 'src/format/crc32c.ts'), // JS CRC-32C stays active
};
const standins = {
  name: 'browser-standins',
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => {
      const target = BROWSER_STANDINS[path.resolve(args.resolveDir, args.path)];
      return target ? { path: target } : undefined;
    });
  },
};
await esbuild.build({
  entryPoints: [path.join(root, 'src/browser.ts')],
  outfile: path.join(dist, 'browser/picpac.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
  plugins: [standins],
});
console.log('build: dist/ ready');
