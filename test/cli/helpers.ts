// Shared helpers for CLI tests: in-process runs with captured output, child-process runs, and
// a small generated image tree (sharp) with a broken file and a text file.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { CliIo } from '../../src/cli/args.ts';
import { runCli } from '../../src/cli/main.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = path.resolve(repoRoot, '../shared');

export async function tempDir(prefix = 'picpac-cli-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function captureIo(options: { tty?: boolean } = {}): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text), isTTY: options.tty ?? false, columns: 120 },
  };
}

/** Run the CLI in-process (fast). */
export async function cli(...argv: string[]): Promise<CliResult> {
  const io = captureIo();
  const code = await runCli(argv, io);
  return { code, stdout: io.out.join(''), stderr: io.err.join('') };
}

/** Run bin/picpac.js as a child process, from `cwd` (default: the OS temp dir). */
export function cliProcess(argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(repoRoot, 'bin/picpac.js'), ...argv],
      { cwd: options.cwd ?? tmpdir(), env: { ...process.env, ...options.env }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export async function makeImage(
  file: string,
  options: { width: number; height: number; seed: number; format?: 'jpeg' | 'png' },
): Promise<void> {
  const { width, height, seed } = options;
  const pixels = new Uint8Array(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + seed * 31 + ((i / 3) | 0) % (seed + 3)) & 0xff;
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  const bytes = options.format === 'png' ? await image.png().toBuffer() : await image.jpeg({ quality: 80 }).toBuffer();
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
}

export interface ImageTree {
  root: string;
  /** Relative path → expected label, for the images that must be imported. */
  expected: Map<string, number>;
  imageCount: number;
}

/**
 * root/            top.jpg, top2.jpg (label 0), notes.txt (skipped)
 * root/apple/      10 JPEG 48×32                 → label 0
 * root/banana/     10 PNG 40×40 + broken.jpg      → label 1 (broken skipped)
 * root/cherry/     8 JPEG 200×120 (one in a subfolder) → label 2
 */
export async function makeImageTree(root: string): Promise<ImageTree> {
  const expected = new Map<string, number>();
  const jobs: Promise<void>[] = [];
  let seed = 1;
  const add = (rel: string, label: number, opts: { width: number; height: number; format?: 'jpeg' | 'png' }): void => {
    expected.set(rel, label);
    jobs.push(makeImage(path.join(root, rel), { ...opts, seed: seed++ }));
  };
  add('top.jpg', 0, { width: 32, height: 32 });
  add('top2.jpg', 0, { width: 30, height: 20 });
  for (let i = 0; i < 10; i++) add(`apple/a${i}.jpg`, 0, { width: 48, height: 32 });
  for (let i = 0; i < 10; i++) add(`banana/b${i}.png`, 1, { width: 40, height: 40, format: 'png' });
  for (let i = 0; i < 7; i++) add(`cherry/c${i}.jpg`, 2, { width: 200, height: 120 });
  add('cherry/deep/c7.jpg', 2, { width: 120, height: 200 });
  await Promise.all(jobs);
  await writeFile(path.join(root, 'notes.txt'), 'not an image\n');
  await writeFile(path.join(root, 'banana/broken.jpg'), Uint8Array.from({ length: 300 }, (_, i) => (i * 13) & 0xff));
  return { root, expected, imageCount: expected.size };
}

export function parseJsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
