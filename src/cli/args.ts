// Argument parsing shared by every command: node:util parseArgs in strict mode, usage errors
// (exit 2) that name the bad option and the closest valid one, help text built from the same
// option table that parses, so `--help` cannot drift from what is accepted.
import { parseArgs } from 'node:util';

/** Where a command writes. Tests pass string collectors; the bin passes process streams. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

/** A mistake in the command line: exit code 2, message printed with a pointer to --help. */
export class UsageError extends Error {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in help, e.g. 'N' for `--max-size N`. */
  valueName?: string;
  description: string;
  multiple?: boolean;
}

export interface CommandSpec {
  name: string;
  /** One line for the global command list. */
  summary: string;
  /** Positional synopsis, e.g. 'SRC OUT.picpac'. */
  synopsis: string;
  description: string;
  options: Record<string, OptionSpec>;
  minPositionals: number;
  /** Infinity for variadic commands. */
  maxPositionals: number;
  examples: string[];
  run(args: ParsedCommand, io: CliIo): Promise<number>;
}

export interface ParsedCommand {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help and exit' };

/** Parse `argv` (after the command name). Returns undefined when --help was asked for (help is printed). */
export function parseCommandArgs(spec: CommandSpec, argv: string[], io: CliIo): ParsedCommand | undefined {
  const options = { ...spec.options, help: HELP_OPTION };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv, options),
      options: Object.fromEntries(
        Object.entries(options).map(([name, o]) => [
          name,
          { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw translateParseError(error, spec, Object.keys(options));
  }
  if (parsed.values.help === true) {
    io.stdout.write(commandHelp(spec));
    return undefined;
  }
  const positionals = parsed.positionals;
  if (positionals.length < spec.minPositionals) {
    throw new UsageError(`missing arguments: expected ${spec.synopsis}`, spec.name);
  }
  if (positionals.length > spec.maxPositionals) {
    throw new UsageError(
      `unexpected argument '${positionals[spec.maxPositionals]}': expected ${spec.synopsis}`,
      spec.name,
    );
  }
  return { positionals, values: parsed.values as ParsedCommand['values'] };
}

/** A negative number (`-1`, `-0.5`, `-1e3`) given as an option's value. */
const NEGATIVE_NUMBER = /^-(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * parseArgs calls `--split_fold -1` "ambiguous" (the value looks like an option). A negative
 * number after a string option is its value: rewrite it as `--split_fold=-1` (`-n-1` for a short
 * option), the spelling parseArgs accepts. Anything after `--` stays as it is.
 */
export function joinNegativeValues(argv: readonly string[], options: Record<string, OptionSpec>): string[] {
  const shortToLong = new Map(Object.entries(options).filter(([, o]) => o.short).map(([name, o]) => [o.short!, name]));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const long = /^--([^=]+)$/.exec(arg)?.[1];
    const short = /^-([^-])$/.exec(arg)?.[1];
    const name = long ?? (short !== undefined ? shortToLong.get(short) : undefined);
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(long !== undefined ? `${arg}=${next}` : `${arg}${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

function translateParseError(error: unknown, spec: CommandSpec, names: string[]): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: string }).code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const m = /option '([^']+)'/.exec(error.message);
    const given = m ? m[1] : '?';
    const bare = given.replace(/^-+/, '').split('=')[0];
    const near = closest(bare, names);
    const hint = near ? ` (did you mean --${near}?)` : '';
    return new UsageError(`unknown option ${given}${hint}`, spec.name);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // parseArgs' own text ("Option '--x <value>' argument missing") is clear; drop its tail hint.
    return new UsageError(error.message.split('\n')[0].replace(/^Option/, 'option'), spec.name);
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    return new UsageError(error.message.split('\n')[0], spec.name);
  }
  return error;
}

/** The name with the smallest edit distance, when it is plausibly a typo (distance ≤ max(2, len/3)). */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) || word.startsWith(c) ? Math.abs(c.length - word.length) * 0.5 : editDistance(word, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: picpac ${spec.name} ${spec.synopsis} [options]`, '', spec.description, '', 'Options:'];
  const entries = Object.entries({ ...spec.options, help: HELP_OPTION }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`;
    return [flag, o.description] as const;
  });
  const width = Math.max(...entries.map(([flag]) => flag.length)) + 2;
  for (const [flag, text] of entries) lines.push(`  ${flag.padEnd(width)}${text}`);
  if (spec.examples.length > 0) {
    lines.push('', 'Examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return lines.join('\n') + '\n';
}

// ---- typed option readers (all failures are usage errors naming the option) ----

export function stringOption(args: ParsedCommand, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flagOption(args: ParsedCommand, name: string): boolean {
  return args.values[name] === true;
}

export function intOption(
  args: ParsedCommand,
  name: string,
  constraint: { min: number; max?: number },
  command: string,
): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  const max = constraint.max ?? Number.MAX_SAFE_INTEGER;
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < constraint.min || value > max) {
    const range = constraint.max === undefined ? `an integer ≥ ${constraint.min}` : `an integer in ${constraint.min}..${max}`;
    throw new UsageError(`invalid value for --${name}: expected ${range}, got '${text}'`, command);
  }
  return value;
}

export function choiceOption<T extends string>(
  args: ParsedCommand,
  name: string,
  choices: readonly T[],
  command: string,
): T | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`invalid value for --${name}: expected one of ${choices.join(', ')}, got '${text}'`, command);
  }
  return text as T;
}
