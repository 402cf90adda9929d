// One entry of the CLI's command table (main.ts): what the global help shows, and how to load
// the command's module when it runs.
import type { CommandSpec } from './args.ts';

export interface LazyCommand {
  name: string;
  /** Same text as the spec's summary (checked by test/cli/usage.test.ts). */
  summary: string;
  load(): Promise<CommandSpec>;
  /**
   * Work to start before the module loads, from the raw arguments (stream: its worker threads);
   * returns what to undo once the command has ended.
   */
  prestart?(args: readonly string[]): () => Promise<void>;
}
