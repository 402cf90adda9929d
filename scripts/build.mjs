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
//   4. esbuild bundles the CLI (issue 11, start-up ≤ 150 ms): dist/cli/bin.js with the global
//      help, plus one chunk per light command (stat, dump, verify, ..., stream) and shared
//      chunks, all in dist/cli/. Loading ~60 small ES modules cost `picpac stat` ~40 ms of
//      resolving, reading and linking; a few chunks cost a fraction. See bundleCli below for
//      what stays in the tsc tree and why.
//   5. esbuild bundles the stream worker twice, for the CLI (dist/cli/stream-worker.js) and for
//      the library (dist/augment/stream/stream-worker.js, in place of tsc's file): each one
//      file, plus chunks for what it imports lazily (bundleStreamWorker below).
// Plain JavaScript so that it runs without tsx.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, readFileSync, rmSync } from 'node:fs';
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

/**
 * Commands bundled into dist/cli chunks. The others (import, convert, serve, annotate, export,
 * split-region, train, predict, rf) reach src/server, src/annotate, src/train or the rest of
 * src/augment, which find worker entries, page assets and packages relative to their own file
 * (import.meta.url) and are heavy anyway (sharp, the viewer, TensorFlow.js): bin.js loads them
 * from the tsc tree (dist/cli/commands/x.js), unchanged. The check below fails the build when a
 * bundled command starts to reach those directories.
 * `stream` is bundled too (its start-up is part of every stream measurement, issue 10): its
 * only worker entry, the stream worker, is bundled on its own into dist/cli/stream-worker.js —
 * the sibling that worker-pool.ts resolves from its chunk in dist/cli/ (bundleStreamWorker).
 */
const BUNDLED_COMMANDS = new Set(['stat', 'dump', 'verify', 'repair', 'merge', 'split', 'shard', 'stream']);
/** Directories whose code must stay in the tsc tree (see above); src/augment's sampling, pixels and stream are bundleable. */
const UNBUNDLED_DIRS = /^src\/(server|annotate|train)\/|^src\/augment\/(?!(sampling|pixels|stream)\/|[a-z-]+\.ts$)/;
/**
 * Bundled files that may use import.meta: only to resolve packages (createRequire, import.meta.resolve),
 * to detect being run directly, or (spare-workers.ts) to find the stream worker entry emitted beside it.
 */
const IMPORT_META_ALLOWED = new Set([
  'src/engine/picpac/crc-native.ts', 'src/engine/lmdb/lmdb-detect.ts', 'src/optional-import.ts', 'src/cli/main.ts',
  'src/augment/pixels/decode.ts', 'src/augment/stream/spare-workers.ts', 'src/augment/stream/ts-worker.ts',
]);

/** esbuild options of the Node bundles: ESM for Node 20, packages left to node_modules, maps without sources; they replace tsc's files. */
const NODE_BUNDLE = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  sourcesContent: false,
  allowOverwrite: true,
  logLevel: 'warning',
};

async function bundleCli() {
  const cliSrc = path.join(root, 'src/cli');
  // Single instances shared with the tsc tree, for `instanceof` in main.ts: the error classes
  // (src/errors.ts, also thrown by unbundled commands) and UsageError (src/cli/args.ts). Every
  // output file sits in dist/cli/, so one relative path serves every chunk.
  const toTscTree = (target) => {
    const rel = path.relative(path.join(root, 'src'), target);
    const command = /^cli\/commands\/([a-z0-9-]+)\.ts$/.exec(rel)?.[1];
    if (rel !== 'errors.ts' && rel !== 'cli/args.ts' && (command === undefined || BUNDLED_COMMANDS.has(command))) return undefined;
    const fromCli = path.relative(cliSrc, target).replace(/\.ts$/, '.js').split(path.sep).join('/');
    return fromCli.startsWith('.') ? fromCli : `./${fromCli}`;
  };
  const result = await esbuild.build({
    entryPoints: { bin: path.join(cliSrc, 'bin.ts') },
    outdir: path.join(dist, 'cli'),
    chunkNames: '[name]-[hash]',
    ...NODE_BUNDLE,
    splitting: true,
    metafile: true,
    plugins: [{
      name: 'cli-tsc-tree',
      setup(build) {
        build.onResolve({ filter: /^\./ }, (args) => {
          const external = toTscTree(path.resolve(args.resolveDir, args.path));
          return external === undefined ? undefined : { path: external, external: true };
        });
      },
    }],
  });
  checkBundleInputs(result.metafile, 'the CLI bundle');
  chmodSync(path.join(dist, 'cli/bin.js'), 0o755);
}

/** Fail the build when a bundle took in code that must stay in the tsc tree (see BUNDLED_COMMANDS). */
function checkBundleInputs(metafile, what) {
  const inputs = Object.keys(metafile.inputs);
  const misplaced = inputs.filter((p) => UNBUNDLED_DIRS.test(p) || (/import\.meta/.test(readFileSync(path.join(root, p), 'utf8')) && !IMPORT_META_ALLOWED.has(p)));
  if (misplaced.length > 0) {
    console.error(`build: ${what} must not contain ${misplaced.join(', ')} (see BUNDLED_COMMANDS in scripts/build.mjs)`);
    process.exit(1);
  }
}

/**
 * The stream worker as one file whose static imports are all inside it, in `dir` (dist/cli for
 * the CLI's stream, dist/augment/stream for programs that import picpac), plus chunks in
 * dir/stream-worker-chunks/ for what it imports lazily (other stores' readers, recovery, S3,
 * HTTP). Every worker loads its module graph again: as ~80 tsc modules that cost ~75 ms per
 * stream; as chunks shared with the CLI's own (16 files), ≈ 25 ms more CPU per `picpac stream`
 * start than this (interleaved whole runs, docs/package.md); and a one-file bundle without
 * splitting loads node:http, https and crypto in every worker, for the lazy imports' sake.
 */
async function bundleStreamWorker(dir) {
  const result = await esbuild.build({
    entryPoints: { 'stream-worker': path.join(root, 'src/augment/stream/stream-worker.ts') },
    outdir: dir,
    chunkNames: 'stream-worker-chunks/[name]-[hash]',
    ...NODE_BUNDLE,
    splitting: true,
    metafile: true,
  });
  checkBundleInputs(result.metafile, `the stream worker bundle in ${path.relative(root, dir)}`);
}

// Before the browser bundle, which scripts/ensure-built.ts takes as the last output.
await bundleCli();
await bundleStreamWorker(path.join(dist, 'cli'));
await bundleStreamWorker(path.join(dist, 'augment/stream'));

/** Node-only modules the reader imports → their browser stand-ins. */
const BROWSER_STANDINS = {
  [path.join(root, 'src/engine/sources/file-source.ts')]: path.join(root, 'src/engine/sources/file-source.browser.ts'),
  [path.join(root, 'src/engine/picpac/crc-native.ts')]: path.join(root, 'src/engine/picpac/crc-native.browser.ts'), // JS CRC-32C stays active
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
