// `picpac stream --threads N`: its N worker threads start before the stream command's module is
// loaded and the store opened (augment/stream/spare-workers.ts), so that their 130–150 ms boot
// overlaps with that work. Only from an explicit, valid --threads; the command itself still
// parses and checks every argument, and ends spares that its stream did not take.
import { prestartStreamWorkers, stopSpareWorkers } from '../augment/stream/spare-workers.ts';

/** At most this many spares: the memory budget may clamp a larger count, and spares cost memory. */
const MAX_SPARES = 16;

/** The value of `--threads N` / `--threads=N` in raw arguments, or undefined. */
export function threadsArgument(args: readonly string[]): number | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--') break;
    if (args[i] === '--threads') value = args[i + 1];
    else if (args[i].startsWith('--threads=')) value = args[i].slice('--threads='.length);
  }
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** Start the spares `args` ask for; the returned function ends those left over (a usage error, fewer threads). */
export function prestartStreamThreads(args: readonly string[]): () => Promise<void> {
  const threads = threadsArgument(args);
  if (threads !== undefined && threads > 0 && !args.includes('--help') && !args.includes('-h')) prestartStreamWorkers(Math.min(threads, MAX_SPARES));
  return stopSpareWorkers;
}
