// npm run torture [-- --kills 200 --flips 150 --seed 1]: kill writers of every kind at random
// moments, then flip bytes and truncate files at random offsets, and check that nothing
// acknowledged is lost, that recovery salvages every record the damage did not hit, and that
// nothing hangs. Minutes, not part of `npm test`. Output: docs/durability.md.
//
// Acknowledged (= committed, SPEC [WRT-7]): the library writer prints "ack <lastId>" after
// close() returned (index block and footer written and fsynced); a CLI writer's records are
// acknowledged when the command exits 0. Records acknowledged before a kill must all be read
// back, by a default open (the last valid commit), byte for byte and with their annotations.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { PicpacReader } from '../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../src/engine/picpac/picpac-writer.ts';
import { MemorySource } from '../src/engine/sources/byte-source.ts';
import { Rng } from '../src/engine/rng.ts';
import { recordUnits } from '../test/frame-walk.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const KILLS = option('kills', 200);
const FLIPS = option('flips', 150);
const rng = new Rng(option('seed', 1));
const CHECK_TIMEOUT_MS = 30_000;
const RUN_TIMEOUT_MS = 120_000;

const stats = { kills: new Map<string, number>(), ackedLost: 0, ackedChecked: 0, hangs: 0, peakChildRssKiB: 0, checks: 0 };

/** Reject when `promise` takes longer than the timeout (counted as a hang). */
async function withinTimeout<T>(what: string, promise: Promise<T>, ms = CHECK_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stats.hangs++;
      reject(new Error(`hang: ${what} took more than ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function childRssKiB(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

interface Run {
  child: ChildProcess;
  exited: Promise<number | null>;
  lines: string[];
}

function start(argv: string[], onLine?: (line: string) => void): Run {
  const child = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    onLine?.(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, lines };
}

async function killAt(run: Run, delayMs: number, kind: string): Promise<boolean> {
  const finished = await Promise.race([run.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), delayMs))]);
  if (finished) return false;
  stats.peakChildRssKiB = Math.max(stats.peakChildRssKiB, childRssKiB(run.child.pid));
  run.child.kill('SIGKILL');
  await run.exited;
  stats.kills.set(kind, (stats.kills.get(kind) ?? 0) + 1);
  return true;
}

const cliArgs = (...rest: string[]): string[] => ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...rest];

/** Every acknowledged library record must read back from the last commit, bytes and annotation. */
async function checkMain(file: string, acked: ReadonlyArray<[number, number]>, cliAcked: number): Promise<void> {
  stats.checks++;
  const reader = await withinTimeout(`open ${file}`, PicpacReader.open(file));
  try {
    const seen = new Set<number>();
    await withinTimeout(`scan ${file}`, (async () => {
      for await (const r of reader.scan()) {
        if (r.id >= 1_000_000) continue; // CLI-imported records
        const bytes = r.fields[0]?.bytes;
        const ok = bytes !== undefined && bytes.length === 100 + ((r.id * 37) % 2000) && bytes.every((b) => b === (r.id & 255)) && r.annotation === (r.id % 2 === 1 ? `{"id":${r.id}}` : undefined);
        if (ok) seen.add(r.id);
      }
    })());
    for (const [first, last] of acked) {
      for (let id = first; id <= last; id++) {
        stats.ackedChecked++;
        if (!seen.has(id)) stats.ackedLost++;
      }
    }
    const cliRecords = reader.recordCount - [...seen].length;
    if (cliRecords < cliAcked) stats.ackedLost += cliAcked - cliRecords;
    stats.ackedChecked += cliAcked;
  } finally {
    await reader.close();
  }
}

async function removeSideFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir)) if (/\.torn-\d+$|\.tmp-/.test(name)) await unlink(path.join(dir, name)).catch(() => {});
}

async function makeImages(dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const bytes = await sharp({ create: { width: 32 + (i % 5) * 8, height: 24, channels: 3, background: { r: i * 5, g: 80, b: 160 } } }).jpeg().toBuffer();
    await writeFile(path.join(dir, `img-${String(i).padStart(3, '0')}.jpg`), bytes);
  }
}

async function killPhase(work: string): Promise<void> {
  const main = path.join(work, 'main.picpac');
  const images = path.join(work, 'images');
  await makeImages(images, 60);
  {
    const w = await PicpacWriter.create(main);
    for (let id = 0; id < 10; id++) void w.append({ id, label: 0, fields: [{ kind: 'bytes', bytes: new Uint8Array(100 + ((id * 37) % 2000)).fill(id & 255) }], annotation: id % 2 === 1 ? `{"id":${id}}` : undefined });
    await w.close();
  }
  const other = path.join(work, 'other.picpac');
  {
    const w = await PicpacWriter.create(other);
    for (let i = 0; i < 300; i++) void w.append({ id: 1_000_000 + i, fields: [{ kind: 'bytes', bytes: new Uint8Array(3000).fill(7) }] });
    await w.close();
  }
  // Acknowledged library ids, as [first, last] ranges: one per writer process (ids jump between
  // processes, so that the ids of an unacknowledged session on disk are never reused).
  const acked: Array<[number, number]> = [[0, 9]];
  let nextId = 10;
  let cliAcked = 0;
  // The library writer starts fastest (engine only): it takes about half of the kills.
  const kinds = ['library', 'library', 'library', 'library', 'library', 'library', 'import --append', 'merge --append', 'repair --overwrite', 'import', 'convert'];
  let total = 0;
  let attempts = 0;
  while (total < KILLS && attempts < KILLS * 4) {
    attempts++;
    const kind = kinds[Math.floor(rng.next() * kinds.length)];
    if (kind === 'library') {
      const range: [number, number] = [nextId, nextId - 1];
      acked.push(range);
      const run = start(['--import', 'tsx', path.join(root, 'scripts/torture-writer.ts'), main, String(nextId)], (line) => {
        if (line.startsWith('ack ')) range[1] = Math.max(range[1], Number(line.slice(4)));
      });
      // Kill at a random moment once it is writing: 0-400 ms after "ready".
      await withinTimeout('library writer start', new Promise<void>((resolve) => { const t = setInterval(() => { if (run.lines.length > 0 || run.child.exitCode !== null) { clearInterval(t); resolve(); } }, 5); }), RUN_TIMEOUT_MS);
      if (await killAt(run, rng.next() * 400, kind)) total++;
      await run.exited;
      nextId = Math.max(range[1], nextId) + 1000; // ids of an unacknowledged session may be on disk: never reuse them
    } else {
      const out = path.join(work, `out-${attempts}.picpac`);
      const argv =
        kind === 'import --append' ? cliArgs('import', images, main, '--append', '--quiet')
        : kind === 'merge --append' ? cliArgs('merge', main, other, '--append')
        : kind === 'repair --overwrite' ? cliArgs('repair', main, main, '--overwrite')
        : kind === 'import' ? cliArgs('import', images, out, '--quiet', '--align', rng.next() < 0.5 ? '1' : '4096')
        : cliArgs('convert', main, out);
      const countBefore = kind === 'import --append' ? 60 : kind === 'merge --append' ? 300 : 0;
      const run = start(argv);
      // CLI start-up takes ~1-2 s here; a kill anywhere in 0.3-3 s hits start-up, the work and the commit.
      const killed = await killAt(run, 300 + rng.next() * 2700, kind);
      if (killed) total++;
      const code = await withinTimeout(`${kind} exit`, run.exited, RUN_TIMEOUT_MS);
      if (!killed && code === 0) cliAcked += countBefore;
      if (kind === 'import' || kind === 'convert') {
        // A new output: either absent, or (killed) unfinished but readable by recovery without a hang.
        if (existsSync(out)) {
          const r = await withinTimeout(`recover ${out}`, PicpacReader.open(out, { recover: true }).catch(() => undefined));
          await r?.close();
          await unlink(out).catch(() => {});
        }
      }
    }
    await checkMain(main, acked, cliAcked);
    await removeSideFiles(work);
    if (total % 20 === 0) process.stderr.write(`torture: ${total} kills, ${stats.ackedLost} acknowledged records lost\n`);
  }
}

interface DamageStats {
  cases: number;
  recordsTotal: number;
  salvagedMin: number;
  salvagedSum: number;
  lostBeyondHit: number;
}


async function recoveredCount(bytes: Uint8Array): Promise<number> {
  const reader = await withinTimeout('recover', PicpacReader.open(new MemorySource(bytes), { recover: true }));
  let n = 0;
  await withinTimeout('recover scan', (async () => {
    for await (const r of reader.scan()) if (r.fields[0].bytes.every((b) => b === (r.id & 255))) n++;
  })());
  await reader.close();
  return n;
}

async function damagePhase(work: string, alignment: number): Promise<{ flips: DamageStats; cuts: DamageStats }> {
  const file = path.join(work, `damage-${alignment}.picpac`);
  const n = 300;
  const w = await PicpacWriter.create(file, { alignment });
  for (let id = 0; id < n; id++) {
    void w.append({ id, label: id % 3, fields: [{ kind: 'bytes', bytes: new Uint8Array(200 + ((id * 53) % 3000)).fill(id & 255) }], annotation: id % 2 === 1 ? `{"id":${id}}` : undefined });
    if (id === 199) {
      await w.close(); // two commits: records 0-199, then 200-299
      return damageOf(file, alignment, n, await continueAppend(file, id + 1, n));
    }
  }
  throw new Error('unreachable');
}

async function continueAppend(file: string, from: number, n: number): Promise<void> {
  const w = await PicpacWriter.append(file);
  for (let id = from; id < n; id++) void w.append({ id, label: id % 3, fields: [{ kind: 'bytes', bytes: new Uint8Array(200 + ((id * 53) % 3000)).fill(id & 255) }], annotation: id % 2 === 1 ? `{"id":${id}}` : undefined });
  await w.close();
}

async function damageOf(file: string, alignment: number, n: number, _: void): Promise<{ flips: DamageStats; cuts: DamageStats }> {
  const bytes = new Uint8Array(readFileSync(file));
  const units = recordUnits(bytes, alignment);
  const flips: DamageStats = { cases: 0, recordsTotal: n, salvagedMin: n, salvagedSum: 0, lostBeyondHit: 0 };
  for (let k = 0; k < FLIPS; k++) {
    const at = 64 + Math.floor(rng.next() * (bytes.length - 64));
    const damaged = bytes.slice();
    damaged[at] ^= 1 + Math.floor(rng.next() * 255);
    const got = await recoveredCount(damaged);
    const hit = units.filter(([s, e]) => at >= s && at < e).length;
    flips.cases++;
    flips.salvagedMin = Math.min(flips.salvagedMin, got);
    flips.salvagedSum += got;
    if (got < n - hit) flips.lostBeyondHit++;
  }
  const cuts: DamageStats = { cases: 0, recordsTotal: n, salvagedMin: n, salvagedSum: 0, lostBeyondHit: 0 };
  for (let k = 0; k < Math.ceil(FLIPS / 2); k++) {
    const cut = 64 + Math.floor(rng.next() * (bytes.length - 64));
    const got = await recoveredCount(bytes.subarray(0, cut));
    const whole = units.filter(([, e]) => e <= cut).length;
    cuts.cases++;
    cuts.salvagedMin = Math.min(cuts.salvagedMin, got);
    cuts.salvagedSum += got;
    if (got < whole) cuts.lostBeyondHit++;
  }
  return { flips, cuts };
}

const started = Date.now();
const work = await mkdtemp(path.join(tmpdir(), 'picpac-torture-'));
try {
  process.stderr.write(`torture: ${KILLS} kills, ${FLIPS} flips per file, in ${work}\n`);
  await killPhase(work);
  const compact = await damagePhase(work, 1);
  const aligned = await damagePhase(work, 4096);
  const seconds = (Date.now() - started) / 1000;
  const kills = [...stats.kills].sort((a, b) => a[0].localeCompare(b[0]));
  const totalKills = kills.reduce((s, [, v]) => s + v, 0);
  const line = (label: string, d: DamageStats, unit: string): string =>
    `${label}: ${d.cases} ${unit}; records salvaged per damaged file: min ${d.cases ? d.salvagedMin : '-'}, mean ${(d.salvagedSum / Math.max(1, d.cases)).toFixed(1)} of ${d.recordsTotal}; cases losing more than the unit hit: ${d.lostBeyondHit}`;
  const report = [
    `CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores); node ${process.version}; ${seconds.toFixed(0)} s`,
    `kills: ${totalKills} (${kills.map(([k, v]) => `${k} ${v}`).join(', ')})`,
    `acknowledged records checked after each kill: ${stats.ackedChecked} in ${stats.checks} checks; lost: ${stats.ackedLost}`,
    line('compact flips', compact.flips, 'single-byte flips'),
    line('aligned flips', aligned.flips, 'single-byte flips'),
    line('compact truncations', compact.cuts, 'cuts (salvaged = every unit before the cut)'),
    line('aligned truncations', aligned.cuts, 'cuts (salvaged = every unit before the cut)'),
    `hangs: ${stats.hangs}`,
    `peak RSS: torture process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; killed writers ${(stats.peakChildRssKiB / 1024).toFixed(0)} MiB`,
  ];
  process.stdout.write(report.join('\n') + '\n');
  process.exitCode = stats.ackedLost === 0 && stats.hangs === 0 && compact.flips.lostBeyondHit + aligned.flips.lostBeyondHit + compact.cuts.lostBeyondHit + aligned.cuts.lostBeyondHit === 0 ? 0 : 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
