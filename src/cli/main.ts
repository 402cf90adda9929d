// picpac command-line entry: dispatch to one file per command, global help, and the mapping
// from errors to exit codes: 0 success, 1 invalid data or refused operation (PicpacError, file
// system errors), 2 usage errors. Expected errors print one line, no stack trace
// (PICPAC_DEBUG=1 prints it).
import { pathToFileURL } from 'node:url';
import { PicpacError } from '../errors.ts';
import { UsageError, closest, parseCommandArgs, type CliIo, type CommandSpec } from './args.ts';
import { annotateCommand } from './commands/annotate.ts';
import { convertCommand } from './commands/convert.ts';
import { dumpCommand } from './commands/dump.ts';
import { exportCommand } from './commands/export.ts';
import { importCommand } from './commands/import.ts';
import { mergeCommand } from './commands/merge.ts';
import { predictCommand } from './commands/predict.ts';
import { repairCommand } from './commands/repair.ts';
import { rfCommand } from './commands/rf.ts';
import { serveCommand } from './commands/serve.ts';
import { shardCommand } from './commands/shard.ts';
import { splitCommand } from './commands/split.ts';
import { splitRegionCommand } from './commands/split-region.ts';
import { statCommand } from './commands/stat.ts';
import { streamCommand } from './commands/stream.ts';
import { trainCommand } from './commands/train.ts';
import { verifyCommand } from './commands/verify.ts';

export const COMMANDS: CommandSpec[] = [
  importCommand,
  statCommand,
  dumpCommand,
  verifyCommand,
  repairCommand,
  mergeCommand,
  convertCommand,
  splitCommand,
  shardCommand,
  streamCommand,
  splitRegionCommand,
  exportCommand,
  annotateCommand,
  serveCommand,
  trainCommand,
  predictCommand,
  rfCommand,
];

export const EXIT_OK = 0;
export const EXIT_DATA = 1;
export const EXIT_USAGE = 2;

export function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: picpac <command> [arguments] [options]',
    '',
    'Image datasets in checksummed, indexed, appendable .picpac files (reads PicPac 1.0 too).',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
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
    const command = COMMANDS.find((c) => c.name === name);
    if (command === undefined) {
      const near = closest(name, COMMANDS.map((c) => c.name));
      throw new UsageError(`unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    const args = parseCommandArgs(command, rest, io);
    if (args === undefined) return EXIT_OK; // --help
    return await command.run(args, io);
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

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  process.exitCode = await runCli(process.argv.slice(2));
}
