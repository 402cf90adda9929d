// Parse and validate the stream's flat parameters from any of the three places they come from:
// an object (library callers, JSON), a URL query (server, explorer) or `--name value` pairs (CLI).
// Strings are coerced ('1'/'0'/'true'/'false', numeric strings, comma lists) because URLs and
// flags carry only text. Unknown names are errors (the original silently ignored them), with the
// closest valid name suggested. Messages use sharp's sentence shape (STYLE §17) and name the
// value as received.

import { invalidParameterError, outOfRangeError } from '../errors.ts';
import {
  LEGACY_NAMES,
  STREAM_PARAMS,
  STREAM_PARAM_NAMES,
  type ParamSpec,
  type StreamConfig,
  type StreamParamName,
} from './config-schema.ts';

export type { StreamConfig, StreamParamName } from './config-schema.ts';

export type StreamConfigInput =
  | Partial<StreamConfig>
  | Readonly<Record<string, unknown>>
  | URLSearchParams
  | readonly string[];

const parsedConfigs = new WeakSet<object>();

/** True for objects returned by parseStreamConfig (already valid and frozen). */
export function isStreamConfig(value: unknown): value is StreamConfig {
  return typeof value === 'object' && value !== null && parsedConfigs.has(value);
}

/** The defaults, frozen. */
export function defaultStreamConfig(): StreamConfig {
  return parseStreamConfig({});
}

/**
 * Validate and complete a stream configuration. Accepts a plain object (values of the right type
 * or strings), URLSearchParams (lists as repeated keys and/or comma-separated) or CLI pairs
 * (`['--batch', '32', '--pad', '--split_keys', '1,2']`, `--name=value`, hyphens or underscores;
 * a flag without a value means true). `undefined` values count as absent. Later values of a
 * repeated key win, except for lists which accumulate.
 *
 * @throws TypeError for an unknown name or a value of the wrong type; RangeError for a value out
 *   of range or breaking a cross-field rule.
 */
export function parseStreamConfig(input: StreamConfigInput = {}): StreamConfig {
  if (isStreamConfig(input)) return input;
  const raw = collect(input);
  const out: Record<string, unknown> = {};
  for (const name of STREAM_PARAM_NAMES) {
    const spec: ParamSpec = STREAM_PARAMS[name];
    out[name] = raw.has(name) ? coerce(name, spec, raw.get(name)) : spec.default;
  }
  if (Array.isArray(out.split_keys)) out.split_keys = Object.freeze([...new Set(out.split_keys as number[])].sort((a, b) => a - b));
  const config = out as unknown as StreamConfig;
  checkCrossFieldRules(config, raw);
  Object.freeze(config);
  parsedConfigs.add(config);
  return config;
}

/** `Unknown stream parameter "pert_angel"; did you mean "pert_angle"?` (suggestion omitted when nothing is close). */
export function unknownParameterMessage(name: string): string {
  const suggestion = closestParameter(name);
  return suggestion === undefined
    ? `Unknown stream parameter ${JSON.stringify(name)}`
    : `Unknown stream parameter ${JSON.stringify(name)}; did you mean ${JSON.stringify(suggestion)}?`;
}

/** The valid name closest to `name` (legacy names map to their replacement), if any is close. */
export function closestParameter(name: string): StreamParamName | undefined {
  if (Object.hasOwn(LEGACY_NAMES, name)) return LEGACY_NAMES[name];
  const lower = name.toLowerCase().replaceAll('-', '_');
  let best: StreamParamName | undefined;
  let bestDistance = Infinity;
  for (const candidate of STREAM_PARAM_NAMES) {
    let distance = editDistance(lower, candidate);
    // `batch_size` → `batch`: a valid name inside the typo (or vice versa) counts as close.
    if (Math.min(lower.length, candidate.length) >= 3 && (lower.includes(candidate) || candidate.includes(lower))) {
      distance = Math.min(distance, 1);
    }
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Levenshtein distance (two rows; names are short). */
export function editDistance(a: string, b: string): number {
  let previous = new Array<number>(b.length + 1);
  let current = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length];
}

/** The non-default parameters as a query string in table order (`batch=32&split=5&split_keys=1,2`). */
export function configToQuery(config: StreamConfig): string {
  const parsed = parseStreamConfig(config);
  const params = new URLSearchParams();
  for (const name of STREAM_PARAM_NAMES) {
    if (isDefault(name, parsed[name])) continue;
    params.append(name, formatValue(parsed[name]));
  }
  return params.toString();
}

/** Human-readable summary: the non-default parameters, one per line with their doc. */
export function describeConfig(config: StreamConfig): string {
  const parsed = parseStreamConfig(config);
  const lines: string[] = [];
  for (const name of STREAM_PARAM_NAMES) {
    if (isDefault(name, parsed[name])) continue;
    lines.push(`  ${name} = ${JSON.stringify(parsed[name])}  (default ${JSON.stringify(STREAM_PARAMS[name].default)}): ${STREAM_PARAMS[name].doc}`);
  }
  const head = `stream config: ${lines.length} of ${STREAM_PARAM_NAMES.length} parameters differ from the defaults`;
  return lines.length === 0 ? head : `${head}\n${lines.join('\n')}`;
}

/** Help text for every parameter (CLI `--help`, server docs). */
export function describeStreamParameters(): string {
  return STREAM_PARAM_NAMES.map((name) => {
    const spec: ParamSpec = STREAM_PARAMS[name];
    const range = constraintOf(spec);
    return `${name} (${spec.type}, default ${JSON.stringify(spec.default)}; ${range}): ${spec.doc}`;
  }).join('\n');
}

function isDefault(name: StreamParamName, value: unknown): boolean {
  const def = STREAM_PARAMS[name].default;
  if (Array.isArray(def)) return Array.isArray(value) && value.length === def.length && value.every((v, i) => v === def[i]);
  return Object.is(value, def);
}

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

// ----- collecting raw values -----

function collect(input: StreamConfigInput): Map<StreamParamName, unknown> {
  const raw = new Map<StreamParamName, unknown>();
  const put = (key: string, value: unknown) => {
    const name = resolveName(key);
    if (STREAM_PARAMS[name].type === 'list' && raw.has(name)) raw.set(name, [...toList(raw.get(name)), ...toList(value)]);
    else raw.set(name, value);
  };
  if (input instanceof URLSearchParams) {
    for (const [key, value] of input) put(key, value);
  } else if (Array.isArray(input)) {
    collectCliPairs(input as readonly string[], put);
  } else if (typeof input === 'object' && input !== null) {
    for (const key of Object.keys(input)) {
      const value = (input as Record<string, unknown>)[key];
      if (value !== undefined) put(key, value);
    }
  } else {
    throw invalidParameterError('stream config', 'object, URLSearchParams or list of --name value strings', input);
  }
  return raw;
}

function collectCliPairs(args: readonly string[], put: (key: string, value: unknown) => void): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg !== 'string' || !arg.startsWith('--') || arg.length === 2) {
      throw invalidParameterError('stream arguments', '--name value pairs', arg);
    }
    const eq = arg.indexOf('=');
    if (eq > 2) {
      put(arg.slice(2, eq), arg.slice(eq + 1));
      continue;
    }
    const key = arg.slice(2);
    const next = args[i + 1];
    const name = resolveName(key);
    if (STREAM_PARAMS[name].type === 'bool' && (next === undefined || next.startsWith('--') || !isBoolText(next))) {
      put(key, true); // bare flag
    } else if (next === undefined) {
      throw invalidParameterError(name, `a value after --${key}`, undefined);
    } else {
      put(key, next);
      i++;
    }
  }
}

function resolveName(key: string): StreamParamName {
  const name = key.replaceAll('-', '_');
  if (Object.hasOwn(STREAM_PARAMS, name)) return name as StreamParamName;
  throw new TypeError(unknownParameterMessage(key));
}

// ----- coercion -----

function isBoolText(text: string): boolean {
  return /^(true|false|1|0)$/i.test(text);
}

const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && NUMBER_TEXT.test(value.trim())) return Number(value.trim());
  return undefined;
}

function toList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return value.trim() === '' ? [] : value.split(',');
  if (typeof value === 'number') return [value];
  return [value];
}

function constraintOf(spec: ParamSpec): string {
  switch (spec.type) {
    case 'bool':
      return 'boolean';
    case 'string':
      return 'string';
    case 'enum':
    case 'int':
      if (spec.values) return `one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`;
      return `integer between ${spec.min} and ${spec.max}`;
    case 'float':
      return `number between ${spec.min} and ${spec.max}`;
    case 'list':
      return `list of integers between ${spec.min} and ${spec.max}`;
  }
}

function coerce(name: StreamParamName, spec: ParamSpec, value: unknown): unknown {
  const constraint = constraintOf(spec);
  switch (spec.type) {
    case 'bool': {
      if (typeof value === 'boolean') return value;
      if (value === 1 || value === 0) return value === 1;
      if (typeof value === 'string' && isBoolText(value.trim())) {
        const text = value.trim().toLowerCase();
        return text === 'true' || text === '1';
      }
      throw invalidParameterError(name, constraint, value);
    }
    case 'string':
      if (typeof value !== 'string') throw invalidParameterError(name, constraint, value);
      return value;
    case 'enum':
      if (typeof value !== 'string') throw invalidParameterError(name, constraint, value);
      if (!spec.values!.includes(value)) throw outOfRangeError(name, constraint, value);
      return value;
    case 'int':
    case 'float': {
      const number = toNumber(value);
      if (number === undefined) throw invalidParameterError(name, constraint, value);
      const ok = spec.values
        ? spec.values.includes(number)
        : Number.isFinite(number) && number >= spec.min! && number <= spec.max! && (spec.type === 'float' || Number.isInteger(number));
      if (!ok) throw outOfRangeError(name, constraint, value);
      return number;
    }
    case 'list': {
      if (typeof value !== 'string' && typeof value !== 'number' && !Array.isArray(value)) {
        throw invalidParameterError(name, constraint, value);
      }
      const out: number[] = [];
      for (const item of toList(value)) {
        const number = toNumber(typeof item === 'string' ? item.trim() : item);
        if (number === undefined) throw invalidParameterError(name, constraint, value);
        if (!Number.isInteger(number) || number < spec.min! || number > spec.max!) throw outOfRangeError(name, constraint, value);
        out.push(number);
      }
      return out;
    }
  }
}

// ----- cross-field rules -----

function checkCrossFieldRules(c: StreamConfig, raw: Map<StreamParamName, unknown>): void {
  const shown = (name: StreamParamName) => (raw.has(name) ? raw.get(name) : c[name]);
  // K-fold (the original: HEAD asserts K = 1 rules; keys need fold -1).
  if (c.split === 1) {
    if (c.split_fold !== 0) throw outOfRangeError('split_fold', '0 when split is 1', shown('split_fold'));
    if (c.split_negate) throw invalidParameterError('split_negate', 'false when split is 1', shown('split_negate'));
    if (c.split_keys.length > 0) throw outOfRangeError('split_keys', 'empty list when split is 1', shown('split_keys'));
  } else {
    if (c.split_fold > c.split - 1) throw outOfRangeError('split_fold', `integer between -1 and ${c.split - 1}`, shown('split_fold'));
    if (c.split_keys.length > 0 && c.split_fold !== -1) {
      throw outOfRangeError('split_fold', '-1 when split_keys is given', shown('split_fold'));
    }
    if (c.split_fold === -1 && c.split_keys.length === 0) {
      throw invalidParameterError('split_keys', `non-empty list of integers between 0 and ${c.split - 1} when split_fold is -1`, shown('split_keys'));
    }
    if (c.split_keys.some((k) => k >= c.split)) {
      throw outOfRangeError('split_keys', `list of integers between 0 and ${c.split - 1}`, shown('split_keys'));
    }
  }
  bothOrNeither(c, shown, 'crop_width', 'crop_height');
  bothOrNeither(c, shown, 'resize_width', 'resize_height');
  if (c.min_size > 0 && c.max_size > 0 && c.min_size > c.max_size) {
    throw outOfRangeError('min_size', `integer at most max_size (${c.max_size})`, shown('min_size'));
  }
  if (c.round_mod !== 0 && c.round_mod >= c.round_div) {
    throw outOfRangeError('round_mod', c.round_div > 0 ? `integer between 0 and ${c.round_div - 1}` : '0 when round_div is 0', shown('round_mod'));
  }
  if (c.pert_min_scale > c.pert_max_scale) {
    throw outOfRangeError('pert_min_scale', `number at most pert_max_scale (${c.pert_max_scale})`, shown('pert_min_scale'));
  }
  if (c.rank >= c.world_size) throw outOfRangeError('rank', `integer between 0 and ${c.world_size - 1}`, shown('rank'));
}

function bothOrNeither(
  c: StreamConfig,
  shown: (name: StreamParamName) => unknown,
  first: 'crop_width' | 'resize_width',
  second: 'crop_height' | 'resize_height',
): void {
  const a = c[first] > 0;
  const b = c[second] > 0;
  if (a && !b) throw outOfRangeError(second, `integer between 1 and 65535 when ${first} is set (both or neither)`, shown(second));
  if (b && !a) throw outOfRangeError(first, `integer between 1 and 65535 when ${second} is set (both or neither)`, shown(first));
}
