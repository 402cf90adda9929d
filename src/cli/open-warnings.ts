// What a reader found on open that the user should know, printed to stderr by every command
// that reads a store: a torn tail after the last commit (with who is writing, if anyone), a
// damaged index read by scanning. Reading goes on; `--strict` refuses instead.
import { isUrl } from '../engine/open-store.ts';
import type { Store } from '../engine/store.ts';
import type { CliIo } from './args.ts';

export async function printOpenWarnings(store: Store, path: string, io: CliIo): Promise<void> {
  const reader = store as Store & { warnings?: readonly string[]; tornTail?: { byteOffset: number; byteLength: number } };
  const warnings = reader.warnings ?? [];
  if (warnings.length === 0) return;
  // Loaded only when there is something to say (the lock code imports node:os).
  const holder = isUrl(path) ? undefined : await (await import('../engine/picpac/writer-lock.ts')).liveLockHolder(path);
  for (const w of warnings) {
    let next = '';
    if (reader.tornTail !== undefined) {
      next = holder
        ? ` — ${path} is locked by pid ${holder.pid} (a writer is appending; its records appear when it commits)`
        : ` — no writer holds ${path}.lock: the writer stopped before committing; \`picpac import ... ${path} --append\` continues from the last commit (the torn bytes are kept in a side file), \`picpac repair ${path} OUT\` also saves the records they hold`;
    }
    io.stderr.write(`warning: ${path}: ${w}${next}\n`);
  }
}
