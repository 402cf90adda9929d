// Query parameters of the viewer: every endpoint has a fixed list of its own names, image
// endpoints also take any stream parameter (src/augment/config.ts validates those). Anything
// else is a 400 naming the closest valid name. The viewer adds bounds the training stream does
// not need (sizes, scales, counts), so one request can never ask for gigapixels; and it refuses
// `mixin`, which would make a request open a file other than the served database.
import { HttpError } from '../engine/sources/http-kit.ts';
import { closestParameter, editDistance, parseStreamConfig } from '../augment/config.ts';
import { STREAM_PARAMS, STREAM_PARAM_NAMES } from '../augment/config-schema.ts';
import type { StreamConfig, StreamParamName } from '../augment/config-schema.ts';

/**
 * Defaults of the viewer's image endpoints where they differ from the stream's: the original
 * explorer's (REFERENCE §1.4: anno_copy=1, pert_color1-3=20, pert_angle=20, scale 0.8-1.2,
 * perturb off) with its UI's anno_palette=default, and a 2-pixel outline (the 2016 server's), so
 * a label-less shape is drawn in palette colour 1 (RGB 31,119,180) on a copy of the image.
 */
export const VIEWER_DEFAULTS: Readonly<Partial<Record<StreamParamName, string>>> = Object.freeze({
  anno_copy: '1',
  anno_thickness: '2',
  anno_palette: 'default',
  anno_color1: '1',
  pert_color1: '20',
  pert_color2: '20',
  pert_color3: '20',
  pert_angle: '20',
  pert_min_scale: '0.8',
  pert_max_scale: '1.2',
});

/** Viewer bounds on top of the stream's own ranges. */
export const VIEWER_LIMITS = Object.freeze({
  /** resize_*, min_size, max_size, crop_* at most this many pixels. */
  maxSide: 4096,
  /** pert_max_scale at most this. */
  maxScale: 4,
  /** anno_thickness at most this. */
  maxThickness: 64,
  /** point_radius at most this. */
  maxPointRadius: 256,
  /** Pixels of one rendered image (after resize, before the perturbation scale). */
  maxRenderPixels: 4096 * 4096,
  /** Pixels of a stored image the viewer decodes. */
  maxDecodePixels: 8192 * 8192,
  /** Images in /l and ids from /api/sample. */
  maxCount: 200,
  maxSampleCount: 1000,
  /** Samples in one /api/stream batch. */
  maxBatch: 64,
});

/** Parameters no request may set: they would read outside the database or start threads. */
const REFUSED: Readonly<Partial<Record<StreamParamName, string>>> = {
  mixin: 'the viewer serves one database; mixin would open another file',
  memory_bytes: 'the memory budget is the server\'s, not a request\'s',
};

/**
 * Reject any name that is neither in `own` nor (when `stream`) a stream parameter; the message
 * names the closest valid one. Also refuses REFUSED stream parameters.
 */
export function checkQueryNames(query: URLSearchParams, own: readonly string[], options: { stream: boolean }): void {
  for (const name of new Set(query.keys())) {
    if (own.includes(name)) continue;
    if (options.stream && Object.hasOwn(STREAM_PARAMS, name)) {
      const why = REFUSED[name as StreamParamName];
      if (why !== undefined) throw new HttpError(400, `parameter ${JSON.stringify(name)} is not accepted: ${why}`);
      continue;
    }
    throw new HttpError(400, unknownNameMessage(name, own, options.stream));
  }
}

export function unknownNameMessage(name: string, own: readonly string[], stream: boolean): string {
  const shown = JSON.stringify(name.slice(0, 60));
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of own) {
    const d = editDistance(lower, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance > Math.max(2, Math.floor(name.length / 3))) best = undefined;
  // The stream's own suggestion (it also knows legacy names and `batch_size` → `batch`) wins unless ours is strictly closer.
  const suggestion = stream ? closestParameter(name) : undefined;
  if (suggestion !== undefined && (best === undefined || editDistance(lower, suggestion) <= bestDistance)) best = suggestion;
  return best !== undefined ? `Unknown parameter ${shown}; did you mean ${JSON.stringify(best)}?` : `Unknown parameter ${shown}`;
}

/**
 * The stream configuration of an image request: viewer defaults (unless `viewerDefaults` is
 * false), then the query's stream parameters (viewer-only names are skipped), then `overrides`,
 * validated by parseStreamConfig and bounded by VIEWER_LIMITS. Every error is a 400 with the
 * parser's sentence.
 */
export function streamConfigFromQuery(
  query: URLSearchParams,
  overrides: Readonly<Record<string, string>> = {},
  options: { viewerDefaults?: boolean } = {},
): StreamConfig {
  const input: Record<string, string | string[]> = options.viewerDefaults === false ? {} : { ...VIEWER_DEFAULTS };
  for (const name of new Set(query.keys())) {
    if (!Object.hasOwn(STREAM_PARAMS, name)) continue;
    const values = query.getAll(name);
    // Lists: repeated keys and/or comma-separated values (`split_keys=1,2&split_keys=4`).
    input[name] = STREAM_PARAMS[name as StreamParamName].type === 'list'
      ? values.flatMap((v) => v.split(',')).filter((v) => v.trim() !== '')
      : values[values.length - 1];
  }
  Object.assign(input, overrides);
  let config: StreamConfig;
  try {
    config = parseStreamConfig(input);
  } catch (error) {
    throw new HttpError(400, (error as Error).message);
  }
  checkViewerLimits(config);
  return config;
}

function checkViewerLimits(c: StreamConfig): void {
  const { maxSide, maxScale, maxThickness, maxPointRadius } = VIEWER_LIMITS;
  for (const name of ['resize_width', 'resize_height', 'min_size', 'max_size', 'crop_width', 'crop_height', 'round_div'] as const) {
    if (c[name] > maxSide) throw new HttpError(400, bound(name, `integer between -1 and ${maxSide} (viewer limit)`, c[name]));
  }
  if (c.pert_max_scale > maxScale) throw new HttpError(400, bound('pert_max_scale', `number between 0.01 and ${maxScale} (viewer limit)`, c.pert_max_scale));
  if (c.anno_thickness > maxThickness) throw new HttpError(400, bound('anno_thickness', `-1 or an integer between 1 and ${maxThickness} (viewer limit)`, c.anno_thickness));
  if (c.point_radius > maxPointRadius) throw new HttpError(400, bound('point_radius', `number between 0 and ${maxPointRadius} (viewer limit)`, c.point_radius));
  if (c.anno_thickness === 0) throw new HttpError(400, bound('anno_thickness', '-1 (filled) or a positive integer', 0));
}

function bound(name: string, constraint: string, value: number): string {
  return `Expected ${constraint} for ${name} but received ${value} of type number`;
}

/** A boolean query flag ('1'/'0'/'true'/'false'); `fallback` when absent; 400 otherwise. */
export function queryBool(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  if (/^(1|true)$/i.test(text)) return true;
  if (/^(0|false)$/i.test(text)) return false;
  throw new HttpError(400, `query parameter ${name} must be 0, 1, true or false, got ${JSON.stringify(text.slice(0, 40))}`);
}

/** A finite number query parameter within [min, max]; `fallback` when absent; 400 otherwise. */
export function queryNumber(query: URLSearchParams, name: string, range: { min: number; max: number }, fallback: number): number {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text) || !(value >= range.min && value <= range.max)) {
    throw new HttpError(400, `query parameter ${name} must be a number in ${range.min}..${range.max}, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return value;
}

/** The stream parameters of a query, as a query string (for links built from a page's own query). */
export function streamQueryString(query: URLSearchParams): string {
  const out = new URLSearchParams();
  for (const [name, value] of query) if (Object.hasOwn(STREAM_PARAMS, name)) out.append(name, value);
  return out.toString();
}

export { STREAM_PARAM_NAMES };
