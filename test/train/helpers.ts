// Shared fixtures for the training tests: a tiny plate database (procedural 32×32 scenes with
// rect annotations, imported through the CLI) in a temp directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/main.ts';
import { generateSampleSet } from '../../src/cli/sample-set.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function tempDir(prefix = 'picpac-train-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const quiet = { stdout: { write: () => true }, stderr: { write: () => true } };

/** `count` scenes of size×size with 1-3 plates each, imported into DIR/plates.picpac. */
export async function makeTinyDb(dir: string, options: { count?: number; size?: number } = {}): Promise<string> {
  const set = await generateSampleSet(dir, { count: options.count ?? 20, size: options.size ?? 32, seed: 3 });
  const db = path.join(dir, 'plates.picpac');
  const code = await runCli(['import', set.listPath, db, '--overwrite'], quiet);
  if (code !== 0) throw new Error(`import failed with ${code}`);
  return db;
}
