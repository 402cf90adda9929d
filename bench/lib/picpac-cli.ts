// Run the `picpac` command as a user does — a whole process, start-up included — and time it.
// The built CLI (dist/, compiled JavaScript) is used when it exists; otherwise bin/picpac.js,
// which runs the TypeScript sources through tsx (slower to start).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './photo-set.ts';

export interface CliRun {
  /** Wall-clock seconds from spawn to exit. */
  seconds: number;
  stdout: string;
  stderr: string;
}

/** Newest modification time (ms) of the .ts files under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** The script node runs for `picpac`, and how to describe it in a report. */
export function picpacEntry(): { script: string; kind: string } {
  for (const built of ['dist/cli/bin.js']) {
    const script = join(repoRoot, built);
    if (!existsSync(script)) continue;
    // A build older than the sources would measure old code: say so in the report.
    const stale = statSync(script).mtimeMs < newestSource(join(repoRoot, 'src')) ? ', OLDER than src/: rebuild' : '';
    return { script, kind: `built CLI (${built}${stale})` };
  }
  return { script: join(repoRoot, 'bin/picpac.js'), kind: 'bin/picpac.js (sources through tsx; no dist/ build)' };
}

export function runPicpac(args: readonly string[]): Promise<CliRun> {
  const { script } = picpacEntry();
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [script, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - start) / 1000;
      if (code !== 0) reject(new Error(`picpac ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
      else resolve({ seconds, stdout, stderr });
    });
  });
}

/**
 * Wall-clock seconds of `node ARGS` from spawn to exit, the fastest of `runs` (a run is only ever
 * slowed by others on a shared VM). Rejects with the child's stderr when it fails.
 */
export async function fastestNodeSeconds(args: readonly string[], runs: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`node ${args.join(' ')} exited with ${code}: ${stderr.trim()}`))));
    });
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return best;
}

/** Wall-clock seconds of a bare `node -e 0` (the fastest of `runs`): start-up no Node program avoids. */
export function bareNodeSeconds(runs: number): Promise<number> {
  return fastestNodeSeconds(['-e', '0'], runs);
}

/** The images/s the CLI itself reports (steady state: after open, before exit). */
export function reportedRate(stdout: string): number | undefined {
  const m = /(\d+) images\/s/.exec(stdout);
  return m ? Number(m[1]) : undefined;
}
