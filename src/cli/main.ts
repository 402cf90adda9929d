// picpac command-line entry: dispatch to one file per command, global help, and the mapping
// from errors to exit codes: 0 success, 1 invalid data or refused operation (PicpacError, file
// system errors), 2 usage errors. Expected errors print one line, no stack trace
// (PICPAC_DEBUG=1 prints it).
import { pathToFileURL } from 'node:url';
import { PicpacError } from '../errors.ts';
import { UsageError, closest, parseCommandArgs, type CliIo, type CommandSpec } from './args.ts';
import type { LazyCommand } from './command-list.ts';
import { missingDependency } from '../optional-import.ts';
import { prestartStreamThreads } from './stream-prestart.ts';

/**
 * The commands, in help order. Each module loads only when its command runs (a command's
 * dependencies, e.g. sharp or the viewer, cost 0.1-0.5 s of start-up); the summaries are
 * repeated here for the global help (test/cli/usage.test.ts checks they match the specs).
 */
export const COMMAND_LIST: readonly LazyCommand[] = [
  { name: 'import', summary: 'build a .picpac file from a folder tree, a list file or another database', load: async () => (await import('./commands/import.ts')).importCommand },
  { name: 'stat', summary: 'record count, label histogram, annotation shapes, image sizes, space overhead', load: async () => (await import('./commands/stat.ts')).statCommand },
  { name: 'dump', summary: 'one JSON line per record: id, labels, and each field\'s type, size and sha256', load: async () => (await import('./commands/dump.ts')).dumpCommand },
  { name: 'verify', summary: 'check every checksum and structure (exit 0 valid, 1 damaged)', load: async () => (await import('./commands/verify.ts')).verifyCommand },
  { name: 'repair', summary: 'write the records recovery can save (torn tail dropped) to a new file', load: async () => (await import('./commands/repair.ts')).repairCommand },
  { name: 'merge', summary: 'concatenate stores into one file (optionally relabelled by input)', load: async () => (await import('./commands/merge.ts')).mergeCommand },
  { name: 'convert', summary: 'convert between .picpac 2.0, PicPac 1.0 and LMDB (raw pixels or encoded images)', load: async () => (await import('./commands/convert.ts')).convertCommand },
  { name: 'split', summary: 'K-fold train/test split into OUT.train.picpac and OUT.test.picpac', load: async () => (await import('./commands/split.ts')).splitCommand },
  { name: 'shard', summary: 'split a store into shards of about SIZE plus a manifest (local folder or s3:// prefix)', load: async () => (await import('./commands/shard.ts')).shardCommand },
  { name: 'stream', summary: 'run the training stream for N samples: images/s, MB/s, --dump PNGs, --digest', load: async () => (await import('./commands/stream.ts')).streamCommand, prestart: prestartStreamThreads },
  { name: 'split-region', summary: 'cut a region around every annotated shape (object ≈ --size px) into a new store', load: async () => (await import('./commands/split-region.ts')).splitRegionCommand },
  { name: 'export', summary: 'write a store as a COCO, Pascal VOC, YOLO or W3C/Annotorious dataset folder', load: async () => (await import('./commands/export.ts')).exportCommand },
  { name: 'annotate', summary: 'annotate images in the browser (Owl): init a project, serve the page, export, import, status', load: async () => (await import('./commands/annotate.ts')).annotateCommand },
  { name: 'serve', summary: 'browse a database in a web browser: overview, sample grid, records, stream batches', load: async () => (await import('./commands/serve.ts')).serveCommand },
  { name: 'train', summary: 'train an FCN (fcn, fcn-tiny) on a database into a workspace; resume; eval snapshots', load: async () => (await import('./commands/train.ts')).trainCommand },
  { name: 'predict', summary: 'run a trained model on images or a database: heat maps, overlays, boxes.json', load: async () => (await import('./commands/predict.ts')).predictCommand },
  { name: 'rf', summary: 'receptive field per layer and of the narrowest layer; compare with object sizes (--db)', load: async () => (await import('./commands/rf.ts')).rfCommand },
];

/** Load every command's spec (tests, documentation checks). */
export async function loadCommands(): Promise<CommandSpec[]> {
  return Promise.all(COMMAND_LIST.map((c) => c.load()));
}

export const EXIT_OK = 0;
export const EXIT_DATA = 1;
export const EXIT_USAGE = 2;

export function globalHelp(): string {
  const width = Math.max(...COMMAND_LIST.map((c) => c.name.length)) + 2;
  return [
    'Usage: picpac <command> [arguments] [options]',
    '',
    'Image datasets in checksummed, indexed, appendable .picpac files (reads PicPac 1.0 too).',
    '',
    'Commands:',
    ...COMMAND_LIST.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run 'picpac <command> --help' for a command's arguments and options.",
    'Exit codes: 0 success, 1 invalid data or refused operation, 2 usage error.',
    '',
  ].join('\n');
}

const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

let pipeHandlerInstalled = false;
/** `picpac dump | head`: a closed pipe ends the command quietly, as for any Unix filter. */
function exitQuietlyOnClosedPipe(): void {
  if (pipeHandlerInstalled) return;
  pipeHandlerInstalled = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

/** Run one command line (without `node` and the script); resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (io === processIo) exitQuietlyOnClosedPipe();
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      if (name === 'help' && rest[0] !== undefined) return runCli([rest[0], '--help'], io);
      io.stdout.write(globalHelp());
      return name === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (name === '--version' || name === '-V') {
      io.stdout.write('picpac 0.1.0\n');
      return EXIT_OK;
    }
    const entry = COMMAND_LIST.find((c) => c.name === name);
    if (entry === undefined) {
      const near = closest(name, COMMAND_LIST.map((c) => c.name));
      throw new UsageError(`unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    const undoPrestart = entry.prestart?.(rest);
    try {
      // A command whose optional package is not installed (lmdb for annotate, ...) says so.
      const command = await entry.load().catch((error: unknown) => {
        throw missingDependency(error, `picpac ${entry.name}`) ?? error;
      });
      const args = parseCommandArgs(command, rest, io);
      if (args === undefined) return EXIT_OK; // --help
      return await command.run(args, io);
    } finally {
      await undoPrestart?.();
    }
  } catch (error) {
    return reportError(error, name, io);
  }
}

function reportError(error: unknown, commandName: string | undefined, io: CliIo): number {
  const debug = process.env.PICPAC_DEBUG === '1';
  const prefix = commandName ? `picpac ${commandName}` : 'picpac';
  if (error instanceof UsageError) {
    const help = error.command ? `picpac ${error.command} --help` : 'picpac --help';
    io.stderr.write(`${prefix}: ${error.message}\nRun '${help}' for usage.\n`);
    if (debug) io.stderr.write(`${error.stack}\n`);
    return EXIT_USAGE;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  const code = (err as { code?: unknown }).code;
  const expected =
    error instanceof PicpacError ||
    // File-system failures (missing input, permission) are the user's data, not our bug.
    (typeof code === 'string' && /^E[A-Z]+$/.test(code));
  if (expected) {
    io.stderr.write(`${prefix}: ${err.message}\n`);
  } else if (error instanceof TypeError || error instanceof RangeError) {
    // Argument validation in the library (invalidParameterError): a bad option value.
    io.stderr.write(`${prefix}: ${err.message}\n`);
    if (debug) io.stderr.write(`${err.stack}\n`);
    return EXIT_USAGE;
  } else {
    io.stderr.write(`${prefix}: internal error: ${err.message}${debug ? '' : ' (PICPAC_DEBUG=1 shows the stack)'}\n`);
  }
  if (debug) io.stderr.write(`${err.stack}\n`);
  return EXIT_DATA;
}

// `node src/cli/main.ts` (tests, scripts). The file-name test matters in the built CLI, where
// this code is bundled into bin.js, whose import.meta.url is the script's: bin.js runs the CLI itself.
const invokedDirectly =
  process.argv[1] !== undefined && /[\\/]main\.[jt]s$/.test(process.argv[1]) && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  process.exitCode = await runCli(process.argv.slice(2));
}
