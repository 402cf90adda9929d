// The built package (dist/) for tests and benches that run it as a user would: rebuilt when any source is
// newer than the last build (npm ci builds it through `prepare`; editing src/ makes it stale).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The last file scripts/build.mjs writes. */
const LAST_OUTPUT = path.join(repoRoot, 'dist/browser/picpac.js');

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Build dist/ unless it is newer than every source; throws when the build fails. */
export function ensureBuilt(): void {
  let builtAt = 0;
  try {
    builtAt = statSync(LAST_OUTPUT).mtimeMs;
  } catch {
    // never built
  }
  const inputs = Math.max(newestMtimeMs(path.join(repoRoot, 'src')), statSync(path.join(repoRoot, 'scripts/build.mjs')).mtimeMs, statSync(path.join(repoRoot, 'tsconfig.build.json')).mtimeMs);
  if (builtAt > inputs) return;
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/build.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
}
