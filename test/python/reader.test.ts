// The Python reader (python/picpac.py) run by Debian's python3: its unittest suite (every golden
// vector against its manifest, the error paths, the docs/python.md examples), then its `dump`
// output compared byte for byte with `picpac dump` (default, `--strict` and `--recover`: warnings, torn-tail
// line and dropped lines included) on the 2.0 and 1.0 golden vectors and on compact, aligned, appended, re-annotated, torn and damaged
// files written here by the engine writer. Skips with a message when python3 is absent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { encodeTensor } from '../../src/format/tensor.ts';
import { TensorDType } from '../../src/format/layout.ts';
import type { NewRecord } from '../../src/engine/store.ts';
import { cli, repoRoot, sharedDir, tempDir } from '../cli/helpers.ts';

const SCRIPT = path.join(repoRoot, 'python', 'picpac.py');
const VECTORS = path.join(repoRoot, 'test', 'vectors', 'v2');

/** Debian's interpreter when present (CI installs it), else whatever python3 is on PATH. */
function findPython(): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    if (candidate.startsWith('/') && !existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ['-c', 'import sys; assert sys.version_info >= (3, 8)'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

const PYTHON = findPython();
const skip = PYTHON === undefined ? 'python3 (>= 3.8) not found (apt-get install python3): Python reader tests skipped' : false;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function python(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(PYTHON as string, args, { cwd: repoRoot, maxBuffer: 64 << 20, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

// Runs `picpac.py dump` on many files in one interpreter (a process per file costs ~0.5 s on a
// loaded machine): the driver calls the module's command-line entry with captured output.
const DUMP_DRIVER = [
  'import contextlib, io, json, sys',
  'sys.path.insert(0, "python")',
  'import picpac',
  'flags, files, runs = [a for a in sys.argv[1:] if a.startswith("--")], [a for a in sys.argv[1:] if not a.startswith("--")], []',
  'for f in files:',
  '    out, err = io.StringIO(), io.StringIO()',
  '    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):',
  '        code = picpac._main(["dump", f] + flags)',
  '    runs.append({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})',
  'sys.stdout.write(json.dumps(runs))',
].join('\n');

async function pythonDumps(files: string[], flags: string[]): Promise<Run[]> {
  const run = await python(['-c', DUMP_DRIVER, ...flags, ...files]);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as Run[];
}

/**
 * `picpac dump` (in-process) and `picpac.py dump` of each file, with `--recover`, `--strict` or
 * neither (the default: the last valid commit, or a scan of a damaged index, with a warning):
 * same exit status, same lines, same stderr (warnings, recovery summary, dropped lines).
 */
async function assertSameDumps(files: string[], mode: 'default' | 'recover' | 'strict'): Promise<Array<{ js: Run; py: Run }>> {
  const flags = mode === 'default' ? [] : [`--${mode}`];
  const pys = await pythonDumps(files, flags);
  const out = [];
  for (const [k, file] of files.entries()) {
    const js = await cli('dump', file, ...flags);
    const py = pys[k];
    const what = `${path.basename(file)} ${flags.join(' ')}`;
    assert.equal(py.code === 0, js.code === 0, `${what}: exit status differs\njs: ${js.stderr}\npy: ${py.stderr}`);
    if (js.code === 0) {
      assert.equal(py.stdout, js.stdout, `${what}: dump lines differ`);
      assert.equal(py.stderr, js.stderr, `${what}: warnings or recovery summary differ`);
    }
    out.push({ js, py });
  }
  return out;
}

// --- files written by the engine writer ---------------------------------------------------------

const SOURCES = path.join(VECTORS, 'src');
const jpegs = ['00000.jpg', '00001.jpg', '00002.jpg'].map((f) => new Uint8Array(readFileSync(path.join(SOURCES, f))));
const mask = new Uint8Array(readFileSync(path.join(SOURCES, 'mask-8x6.png')));

/** Deterministic records exercising every field kind, odd labels, duplicate ids and unicode annotations. */
function makeRecords(count: number, seed: number): NewRecord[] {
  let state = seed >>> 0;
  const next = (n: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const labels = [0, 1, 2.5, -0, 1e-7, 123456.789, -3e22, Number.NaN, 1e300, 0.1, 7];
  const dtypes = [TensorDType.uint8, TensorDType.int16, TensorDType.float32, TensorDType.float64, TensorDType.int32];
  const out: NewRecord[] = [];
  for (let i = 0; i < count; i++) {
    const fields: NewRecord['fields'] = [{ kind: 'image', bytes: jpegs[next(3)] }];
    if (next(3) === 0) fields.push({ kind: 'label', bytes: mask });
    if (next(2) === 0) {
      const dtype = dtypes[next(dtypes.length)];
      const shape = [1 + next(3), 1 + next(4)];
      const size = shape[0] * shape[1] * { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 8: 8 }[dtype];
      const data = Uint8Array.from({ length: size }, () => next(256));
      if (dtype === TensorDType.float32 || dtype === TensorDType.float64) data.fill(0x3f); // finite values
      fields.push({ kind: 'tensor', codec: dtype, bytes: encodeTensor({ dtype, shape, data }) });
    }
    if (next(4) === 0) fields.push({ kind: 'bytes', bytes: Uint8Array.from({ length: next(40) }, () => next(256)) });
    const record: NewRecord = { id: next(5) === 0 ? 7 : 1000 + i * 17, label: labels[next(labels.length)], label2: next(4) - 1, fields };
    if (next(3) !== 0) record.annotation = JSON.stringify({ shapes: [{ type: 'rect', label: next(3), geometry: { x: 0.1, y: 0.2, width: 0.3, height: 0.25 } }], note: `nº ${i} — ünïcode ✓` });
    out.push(record);
  }
  return out;
}

async function writeFileWith(file: string, records: NewRecord[], alignment: number): Promise<void> {
  const writer = await PicpacWriter.create(file, { alignment, overwrite: true, fsyncOnClose: false });
  for (const r of records) void writer.append(r);
  await writer.close();
}

/** One more commit: records, then annotation changes (text, or undefined to remove). */
async function appendTo(file: string, records: NewRecord[], changes: Array<[number, string | undefined]>): Promise<void> {
  const writer = await PicpacWriter.append(file, { fsyncOnClose: false });
  for (const r of records) void writer.append(r);
  for (const [i, text] of changes) void writer.setAnnotation(i, text);
  await writer.close();
}

/** Record and annotation frame boundaries of a finished file, and ±1 around them: the interesting cut points. */
async function cutPoints(file: string): Promise<number[]> {
  const reader = await PicpacReader.open(file);
  const points = new Set<number>();
  const columns = reader.columns;
  for (let i = 0; i < reader.recordCount; i += 11) {
    const start = columns.frameOffset[i];
    const end = start + 16 + columns.payloadByteLength[i];
    for (const p of [start - 1, start, start + 1, start + 10, end - 1, end, end + 1, end + 20]) points.add(p);
  }
  const size = (await readFile(file)).length;
  for (const p of [size - 1, size - 64, size - 65, 40, 64, 65]) points.add(p);
  await reader.close();
  return [...points].filter((p) => p > 0 && p < size).sort((a, b) => a - b);
}

describe('Python reader (python/picpac.py)', { skip }, () => {
  let dir = '';
  let cleanup = async (): Promise<void> => {};
  const files: Record<string, string> = {};

  before(async () => {
    ({ dir, cleanup } = await tempDir('picpac-python-'));
    const records = makeRecords(40, 1);
    files.compact = path.join(dir, 'compact.picpac');
    files.aligned = path.join(dir, 'aligned.picpac');
    await writeFileWith(files.compact, records, 1);
    await writeFileWith(files.aligned, records, 4096);
    // Appended: a second commit of records that re-annotates and un-annotates earlier ones.
    files.appended = path.join(dir, 'appended.picpac');
    await copyFile(files.compact, files.appended);
    await appendTo(files.appended, makeRecords(15, 2), [[0, '{"shapes":[]}'], [1, undefined], [3, undefined], [45, '{"shapes":[],"v":2}'], [3, '{"again":true}']]);
    files.alignedAppended = path.join(dir, 'aligned-appended.picpac');
    await copyFile(files.aligned, files.alignedAppended);
    await appendTo(files.alignedAppended, makeRecords(9, 3), [[2, '{"late":1}']]);
    // Re-annotated: commits with annotation changes only.
    files.reannotated = path.join(dir, 'reannotated.picpac');
    await copyFile(files.alignedAppended, files.reannotated);
    await appendTo(files.reannotated, [], [[0, undefined], [5, '{"x":"ä"}'], [48, '{"y":1}']]);
    await appendTo(files.reannotated, [], [[5, '{"x":"newest wins"}'], [0, '{"back":true}']]);
  });
  after(() => cleanup());

  test('python unittest suite: golden vectors, error paths, docs example', async () => {
    const run = await python(['-m', 'unittest', 'discover', '-s', 'python', '-p', 'test_*.py']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /\nOK/);
  });

  test('dump matches picpac dump on every golden vector (strict and --recover)', async () => {
    const vectors = readdirSync(VECTORS).filter((f) => f.endsWith('.picpac')).map((f) => path.join(VECTORS, f));
    assert.ok(vectors.length >= 12);
    await assertSameDumps(vectors, 'default');
    await assertSameDumps(vectors, 'strict');
    await assertSameDumps(vectors, 'recover');
  });

  test('dump matches picpac dump on the PicPac 1.0 vectors, crashed ones with --recover', async (t) => {
    const dir1 = path.join(repoRoot, 'test', 'vectors', 'v1');
    const v1 = readdirSync(dir1).filter((f) => f.endsWith('.db')).map((f) => path.join(dir1, f));
    assert.ok(v1.length >= 5);
    await assertSameDumps(v1, 'default');
    const legacy = path.join(sharedDir, 'vectors', 'legacy-v1');
    if (existsSync(legacy)) v1.push(...readdirSync(legacy).filter((f) => f.endsWith('.db')).map((f) => path.join(legacy, f)));
    else t.diagnostic(`${legacy} absent: only the in-repo 1.0 vectors are compared`);
    const recovered = await assertSameDumps(v1, 'recover');
    assert.ok(recovered.every(({ py }) => py.code === 0));
  });

  test('command line: python3 picpac.py dump prints the lines and the recovery summary', async () => {
    const torn = path.join(VECTORS, 'torn.picpac');
    const run = await python([SCRIPT, 'dump', torn, '--recover']);
    const js = await cli('dump', torn, '--recover');
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, js.stdout, js.stderr]);
    // One commit, torn: no committed data, so the default open fails like --strict. [RCV-6]
    const byDefault = await python([SCRIPT, 'dump', torn]);
    assert.equal(byDefault.code, 1);
    assert.match(byDefault.stderr, /torn\.picpac: footer: no committed data to read: no valid footer: bad frame magic at byte 6681: .* at byte 6681\n$/);
    const strict = await python([SCRIPT, 'dump', torn, '--strict']);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /torn\.picpac: footer: no valid footer: bad frame magic at byte 6681: expected 20727, got 11420\n$/);
    assert.equal((await python([SCRIPT, 'dmup', torn])).code, 2);
  });

  test('dump matches on compact, aligned, appended and re-annotated files', async () => {
    const runs = await assertSameDumps(Object.values(files), 'default');
    for (const [k, name] of Object.keys(files).entries()) {
      assert.equal(runs[k].py.code, 0, `${name}: ${runs[k].py.stderr}`);
      assert.ok(runs[k].py.stdout.split('\n').length > 40, name);
    }
    // The annotation changes really happened (newest wins, removal removes).
    const lines = (await python([SCRIPT, 'dump', files.reannotated])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].fields.at(-1).type, 'annotation/json');
    assert.equal(lines[0].fields.at(-1).size, '{"back":true}'.length);
    assert.equal(lines[5].fields.at(-1).size, Buffer.byteLength('{"x":"newest wins"}'));
  });

  test('torn files: same records and the same torn tail as picpac dump --recover', async () => {
    // Cuts around record frames of an aligned appended file and a compact one, and across the
    // annotation-only commits of the re-annotated file (removals and replacements being cut).
    const cuts: Array<[string, number]> = [];
    for (const name of ['alignedAppended', 'appended']) for (const p of await cutPoints(files[name])) cuts.push([name, p]);
    const base = (await readFile(files.alignedAppended)).length;
    const size = (await readFile(files.reannotated)).length;
    for (let k = 1; k <= 24; k++) cuts.push(['reannotated', base + Math.floor(((size - base) * k) / 25)]);
    assert.ok(cuts.length > 50, `${cuts.length} cuts`);
    const torn = [];
    for (const [name, length] of cuts) {
      torn.push(path.join(dir, `torn-${name}-${length}.picpac`));
      await writeFile(torn.at(-1) as string, (await readFile(files[name])).subarray(0, length));
    }
    for (const { py } of await assertSameDumps(torn.filter((_, k) => k % 3 === 0), 'strict')) {
      assert.equal(py.code, 1, 'strict open of a torn file must fail');
      assert.match(py.stderr, /no valid footer|no footer|shorter than its header/, py.stderr);
    }
    // By default the last valid commit is read, with the same warning as picpac dump. [RCV-6]
    const byDefault = await assertSameDumps(torn.filter((_, k) => k % 3 === 1), 'default');
    assert.ok(byDefault.some(({ py }) => py.code === 0 && py.stderr.startsWith('warning: ') && py.stderr.includes('reading the last commit')));
    assert.ok(byDefault.some(({ py }) => py.code === 1 && py.stderr.includes('no committed data to read')));
    for (const { py } of await assertSameDumps(torn, 'recover')) assert.equal(py.code, 0, py.stderr);
  });

  test('damaged files: same survivors and the same dropped lines as picpac dump --recover (resync, units)', async () => {
    // Damage inside files (not cuts): a record payload, a record frame header, an annotation
    // frame written with its record, an index block, a range across several frames. [RCV-7] [RCV-8]
    const damaged: string[] = [];
    for (const name of ['appended', 'alignedAppended', 'reannotated']) {
      const bytes = await readFile(files[name]);
      const reader = await PicpacReader.open(files[name]);
      const c = reader.columns;
      const frameAt = (i: number): number => c.frameOffset[i];
      const frameEnd = (i: number): number => c.frameOffset[i] + 16 + c.payloadByteLength[i];
      const edits: Array<[string, (b: Buffer) => void]> = [
        ['payload', (b) => { b[frameAt(3) + 100] ^= 0xff; }],
        ['header', (b) => { b[frameAt(7) + 5] ^= 0x01; }],
        ['annotation', (b) => { b[frameEnd(c.annotationOffset.findIndex((a, i) => i > 10 && a === frameEnd(i))) + 20] ^= 0x40; }],
        ['index', (b) => { b[reader.indexOffset + 40] ^= 0x10; }],
        ['range', (b) => { b.fill(0x55, frameAt(12) + 8, frameAt(15) + 30); }],
        ['two', (b) => { b[frameAt(2) + 60] ^= 1; b[frameAt(20) + 3] ^= 1; }],
      ];
      await reader.close();
      for (const [what, edit] of edits) {
        const copy = Buffer.from(bytes);
        edit(copy);
        damaged.push(path.join(dir, `damaged-${name}-${what}.picpac`));
        await writeFile(damaged.at(-1) as string, copy);
      }
    }
    const recovered = await assertSameDumps(damaged, 'recover');
    assert.ok(recovered.every(({ py }) => py.code === 0), 'every damaged file recovers');
    assert.ok(recovered.some(({ py }) => /\ndropped: record \d+, bytes \d+\.\.\d+: damaged record frame/.test(py.stderr)));
    assert.ok(recovered.some(({ py }) => py.stderr.includes('whose annotation frame is missing or damaged')));
    await assertSameDumps(damaged, 'default');
  });

  test('property: a compact or aligned file cut anywhere recovers like picpac dump --recover', async () => {
    // The cases are generated first and checked in one Python run.
    const cases = fc.sample(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true })), { numRuns: 30, seed: 16 });
    const cut = [];
    for (const [k, [count, aligned, where]] of cases.entries()) {
      const file = path.join(dir, `property-${k}.picpac`);
      await writeFileWith(file, makeRecords(count, count * 31 + k), aligned ? 4096 : 1);
      await truncate(file, Math.floor(where * (await readFile(file)).length));
      cut.push(file);
    }
    await assertSameDumps(cut, 'recover');
    await Promise.all(cut.map((f) => rm(f)));
  });
});
