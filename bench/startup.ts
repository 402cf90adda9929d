// Start-up benchmark (issue 11): wall time of whole `picpac` processes as a user runs them —
// the built CLI (dist/cli/bin.js, plain Node, no loader) for `--help` and `stat` of a 2000-record
// file, and a program's `import 'picpac'` (dist/node.js) alone and with a two-thread
// ImageStream's first batch — next to bare Node (`node -e 0`, the floor on this machine) and to the development
// launcher (bin/picpac.js, TypeScript through tsx), in the same run. Goal: ≤ 150 ms. On a VM
// whose floor alone is 100-150 ms, each figure is also given as floor + N ms.
// `--compare PATH` times another built CLI (e.g. a copy of an older dist/cli/bin.js, inside a
// directory with the package.json and node_modules it needs) in the same interleaved runs.
// Run: npm run bench -- startup [--runs 11] [--compare /tmp/old/dist/cli/bin.js]
// Writes bench/results/startup.json and startup.md.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureBuilt } from '../scripts/ensure-built.ts';
import { runCli } from '../src/cli/main.ts';
import { median } from './lib/measure.ts';
import { cacheDir, machineLine, photoSet, repoRoot } from './lib/photo-set.ts';

const { values } = parseArgs({ args: process.argv.slice(3), options: { runs: { type: 'string', default: '11' }, compare: { type: 'string' } } });
const runs = Number(values.runs);

ensureBuilt();
const photos = await photoSet(2000, 256, 256, 90);
const work = join(cacheDir, 'startup');
await mkdir(work, { recursive: true });
const list = join(work, 'list.tsv');
await writeFile(list, photos.files.join('\n') + '\n');
const db = join(work, 'photos.picpac');
await rm(db, { force: true });
const silent = { stdout: { write: () => true }, stderr: { write: () => true } };
if ((await runCli(['import', list, db, '-q'], silent)) !== 0) throw new Error('import failed');

const built = join(repoRoot, 'dist/cli/bin.js');
const dev = join(repoRoot, 'bin/picpac.js');
// The library as a program uses it: `import 'picpac'` (the built entry), and that plus a
// two-thread ImageStream over the same file, its first batch and close().
const libImport = join(work, 'lib-import.mjs');
await writeFile(libImport, 'await import(process.argv[2]);\n');
const libStream = join(work, 'lib-stream.mjs');
await writeFile(libStream, [
  'const { ImageStream } = await import(process.argv[2]);',
  'const stream = await ImageStream.open(process.argv[3], { threads: 2, cache: 0, stratify: 0, batch: 1 });',
  'await stream.next();',
  'await stream.close();',
  '',
].join('\n'));
const entry = (distDir: string) => pathToFileURL(join(distDir, 'node.js')).href;
const compareDist = values.compare === undefined ? undefined : dirname(dirname(values.compare));
const cases: { name: string; argv: string[] }[] = [
  { name: 'node -e 0 (floor)', argv: ['-e', '0'] },
  { name: 'picpac --help (built)', argv: [built, '--help'] },
  { name: 'picpac stat 2000 records (built)', argv: [built, 'stat', db] },
  { name: "import 'picpac' (built)", argv: [libImport, entry(join(repoRoot, 'dist'))] },
  { name: 'ImageStream, 2 threads, first batch (built)', argv: [libStream, entry(join(repoRoot, 'dist')), db] },
  ...(values.compare === undefined
    ? []
    : [
        { name: 'picpac --help (--compare build)', argv: [values.compare, '--help'] },
        { name: 'picpac stat 2000 records (--compare build)', argv: [values.compare, 'stat', db] },
        { name: "import 'picpac' (--compare build)", argv: [libImport, entry(compareDist!)] },
        { name: 'ImageStream, 2 threads, first batch (--compare build)', argv: [libStream, entry(compareDist!), db] },
      ]),
  { name: 'picpac --help (tsx, development)', argv: [dev, '--help'] },
  { name: 'picpac stat (tsx, development)', argv: [dev, 'stat', db] },
];
const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
// Interleaved, so that a burst of load on the shared machine hits every case alike.
for (let r = 0; r < runs; r++) {
  for (const c of cases) {
    const t0 = performance.now();
    const child = spawnSync(process.execPath, c.argv, { cwd: work, env: { ...process.env, NODE_OPTIONS: '' } });
    const ms = performance.now() - t0;
    if (child.status !== 0) throw new Error(`${c.name}: exit ${child.status}: ${child.stderr}`);
    times.get(c.name)!.push(ms);
  }
}
const floorMs = median(times.get(cases[0].name)!);
const rows = cases.map((c) => {
  const t = times.get(c.name)!;
  const medianMs = Math.round(median(t));
  return { case: c.name, medianMs, floorPlusMs: Math.round(median(t) - floorMs), minMs: Math.round(Math.min(...t)), maxMs: Math.round(Math.max(...t)) };
});
const load = loadavg().map((l) => l.toFixed(2)).join(' ');
const report = { bench: 'startup', machine: machineLine(), loadAverage: load, runs, goalMs: 150, compare: values.compare ?? null, rows };
console.log(`# startup — ${report.machine}; load average ${load}; ${runs} runs each, interleaved; goal ≤ 150 ms`);
console.table(rows);
await mkdir(join(repoRoot, 'bench/results'), { recursive: true });
await writeFile(join(repoRoot, 'bench/results/startup.json'), JSON.stringify(report, null, 2));
const md = [
  '# Start-up bench (`npm run bench -- startup`)',
  '',
  `Whole processes, wall time, ${runs} interleaved runs each; goal ≤ 150 ms. Machine: ${report.machine}; load average at the end ${load}`,
  '(a shared machine: compare the rows of one run with each other; "floor + N" is the median minus the median of `node -e 0`).',
  ...(values.compare === undefined ? [] : ['', `--compare build: \`${values.compare}\`.`]),
  '',
  '| case | median | floor + N | min | max |',
  '|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.case} | ${r.medianMs} ms | ${r.floorPlusMs} ms | ${r.minMs} ms | ${r.maxMs} ms |`),
  '',
].join('\n');
await writeFile(join(repoRoot, 'bench/results/startup.md'), md);
