// Benchmark dispatcher: npm run bench -- <name> [options]. Each benchmark prints a table and
// writes bench/results/<name>.json.
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'run.ts').map((f) => f.replace(/\.ts$/, ''));
// No name (or only options): the storage benchmark, the one the README summarises.
if (process.argv[2] === undefined || process.argv[2].startsWith('--')) process.argv.splice(2, 0, 'storage');
const name = process.argv[2];
if (!available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [options]`);
  process.exit(2);
}
await import(`./${name}.ts`);
