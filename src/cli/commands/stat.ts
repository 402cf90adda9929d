// picpac stat DB: counts, label and size distributions, annotation shapes, space overhead.
// Labels, codecs, sizes and field bytes come from the in-memory index, annotations from the
// frames the index names: a .picpac 2.0 file is never read record by record unless --scan asks
// (then every record checksum is verified, image bytes are counted field by field and the scan
// rate is reported). Other stores (PicPac 1.0, LMDB, shard manifests) are scanned.
import { stat as fsStat } from 'node:fs/promises';
import { isUrl, openByteSource, openStore } from '../../engine/open-store.ts';
import { PicpacReader } from '../../engine/picpac/picpac-reader.ts';
import { isShardManifestPath } from '../../engine/sources/shards.ts';
import type { Store, StoredRecord } from '../../engine/store.ts';
import { ImageCodec } from '../../format/layout.ts';
import { printOpenWarnings } from '../open-warnings.ts';
import { fieldBytesFromIndex } from '../stat-from-index.ts';
import { checkAnnotationDocument } from '../../format/shape-rules.ts';
import { flagOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';

export const statCommand: CommandSpec = {
  name: 'stat',
  summary: 'record count, label histogram, annotation shapes, image sizes, space overhead',
  synopsis: 'DB',
  description:
    'Summarise a store (.picpac 2.0, PicPac 1.0, shard manifest or URL). Integer labels get a\n' +
    'count per label, float labels min/mean/max and the number of distinct values. Overhead is\n' +
    '(file size - field bytes) / field bytes.',
  options: {
    json: { type: 'boolean', description: 'print one JSON object instead of text' },
    scan: { type: 'boolean', description: 'read every record: verify its checksum, count image bytes of multi-field records, report records/s and MB/s' },
    strict: { type: 'boolean', description: 'refuse a file whose end is not a valid commit or whose index is damaged (default: read the last valid commit, or scan the frames, with a warning)' },
  },
  minPositionals: 1,
  maxPositionals: 1,
  examples: ['picpac stat plates.picpac', 'picpac stat plates.picpac --json', 'picpac stat plates.picpac --scan'],
  run: runStat,
};

export type LabelSummary =
  | { kind: 'integer'; counts: Record<string, number> }
  | { kind: 'float'; min: number; mean: number; max: number; distinct: number };

export interface StatReport {
  file: string;
  format: string;
  recordCount: number;
  fileByteLength: number | null;
  fieldByteLength: number;
  /**
   * null without --scan when the index cannot tell image bytes from other field bytes (records
   * with two or more fields, see stat-from-index.ts): those sizes are in the record frames.
   */
  imageByteLength: number | null;
  overheadPercent: number | null;
  labels: LabelSummary | null;
  /** null when every label2 is zero. */
  label2: LabelSummary | null;
  /**
   * invalid: annotations that are not JSON objects with a `shapes` array; invalidShapes: shapes
   * breaking the annotator's geometry rules (src/format/shape-rules.ts), in invalidShapeRecords
   * records; firstInvalidShape names the first one.
   */
  annotations: {
    records: number; shapes: Record<string, number>; invalid: number;
    invalidShapes: number; invalidShapeRecords: number; firstInvalidShape: string | null;
  };
  codecs: Record<string, number>;
  width: { min: number; median: number; max: number } | null;
  height: { min: number; median: number; max: number } | null;
  /** Long side of the first image, bucketed by powers of two: "<=256": count. */
  sizeHistogram: Record<string, number>;
  scan: { seconds: number; recordsPerSecond: number; megabytesPerSecond: number } | null;
}

const CODEC_NAMES = new Map<number, string>(Object.entries(ImageCodec).map(([name, code]) => [code, name]));

export function summariseLabels(values: Float64Array): LabelSummary | null {
  if (values.length === 0) return null;
  if (values.every((v) => Number.isInteger(v))) {
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    const sorted = [...counts.entries()].sort((a, b) => a[0] - b[0]);
    return { kind: 'integer', counts: Object.fromEntries(sorted.map(([k, c]) => [String(k), c])) };
  }
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  return { kind: 'float', min, mean: sum / values.length, max, distinct: new Set(values).size };
}

function distribution(values: number[]): { min: number; median: number; max: number } | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor((sorted.length - 1) / 2)], max: sorted[sorted.length - 1] };
}

export async function collectStats(path: string, options: { scan?: boolean; strict?: boolean; io?: CliIo } = {}): Promise<StatReport> {
  const store = await openStore(path, options.strict ? { strict: true } : undefined);
  try {
    if (options.io) await printOpenWarnings(store, path, options.io);
    const n = store.recordCount;
    const labels = new Float64Array(n);
    const labels2 = new Float64Array(n);
    const codecs: Record<string, number> = {};
    const widths: number[] = [];
    const heights: number[] = [];
    const sizeHistogram = new Map<number, number>();
    let recordBytes = 0;
    for (let i = 0; i < n; i++) {
      const m = store.meta(i);
      labels[i] = m.label;
      labels2[i] = m.label2;
      const codec = m.imageCodec === 0 && m.fieldCount === 0 ? 'none' : (CODEC_NAMES.get(m.imageCodec) ?? `codec${m.imageCodec}`);
      codecs[codec] = (codecs[codec] ?? 0) + 1;
      if (m.width > 0 && m.height > 0) {
        widths.push(m.width);
        heights.push(m.height);
        const bucket = Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(m.width, m.height))));
        sizeHistogram.set(bucket, (sizeHistogram.get(bucket) ?? 0) + 1);
      }
      recordBytes += Math.max(m.byteLength, 0);
    }
    let fieldByteLength = 0;
    let imageBytes = 0;
    let imagesRead = true;
    const shapes: Record<string, number> = {};
    let annotated = 0;
    let invalid = 0;
    let invalidShapes = 0;
    let invalidShapeRecords = 0;
    let firstInvalidShape: string | null = null;
    const countShapes = (annotation: string, recordIndex: number): void => {
      annotated++;
      try {
        const parsed = JSON.parse(annotation) as { shapes?: Array<{ type?: unknown }> };
        for (const s of Array.isArray(parsed?.shapes) ? parsed.shapes : []) {
          const type = typeof s?.type === 'string' ? s.type : 'untyped';
          shapes[type] = (shapes[type] ?? 0) + 1;
        }
        const check = checkAnnotationDocument(parsed);
        if (check.documentProblem !== undefined) invalid++;
        else if (check.shapeProblems.length > 0) {
          invalidShapes += check.shapeProblems.length;
          invalidShapeRecords++;
          const p = check.shapeProblems[0];
          firstInvalidShape ??= `record ${recordIndex} ${p.path}: ${p.problem}`;
        }
      } catch {
        invalid++;
      }
    };
    const startMs = performance.now();
    if (!options.scan && store instanceof PicpacReader) {
      // .picpac 2.0 without --scan, local or remote: header, footer, index and the annotation
      // frames the index names, never a record frame (a 2000-record file in ~10 ms instead of a
      // full read). Image bytes only where the index tells them (stat-from-index.ts).
      const fromIndex = fieldBytesFromIndex(store.columns, n);
      fieldByteLength = fromIndex.fieldByteLength;
      imageBytes = fromIndex.imageByteLength ?? 0;
      imagesRead = fromIndex.imageByteLength !== null;
      for (const [recordIndex, text] of await store.readAnnotations()) countShapes(text, recordIndex);
    } else {
      for await (const batch of scanBatches(store, options.scan === true)) {
        for (const r of batch) {
          for (const f of r.fields) {
            fieldByteLength += f.bytes.byteLength;
            if (f.kind === 'image') imageBytes += f.bytes.byteLength;
          }
          if (r.annotation !== undefined) countShapes(r.annotation, r.recordIndex);
        }
      }
    }
    const seconds = (performance.now() - startMs) / 1000;
    const fileByteLength = await storedByteLength(path);
    const overheadPercent =
      fileByteLength === null || fieldByteLength === 0 ? null : ((fileByteLength - fieldByteLength) / fieldByteLength) * 100;
    const label2Zero = labels2.every((v) => v === 0);
    const scannedBytes = recordBytes > 0 ? recordBytes : fieldByteLength;
    return {
      file: path,
      format: store.format,
      recordCount: n,
      fileByteLength,
      fieldByteLength,
      imageByteLength: imagesRead ? imageBytes : null,
      overheadPercent,
      labels: summariseLabels(labels),
      label2: label2Zero ? null : summariseLabels(labels2),
      annotations: { records: annotated, shapes, invalid, invalidShapes, invalidShapeRecords, firstInvalidShape },
      codecs,
      width: distribution(widths),
      height: distribution(heights),
      sizeHistogram: Object.fromEntries([...sizeHistogram.entries()].sort((a, b) => a[0] - b[0]).map(([b, c]) => [`<=${b}`, c])),
      scan: options.scan
        ? { seconds, recordsPerSecond: n / Math.max(seconds, 1e-9), megabytesPerSecond: scannedBytes / 1e6 / Math.max(seconds, 1e-9) }
        : null,
    };
  } finally {
    await store.close();
  }
}

/**
 * 26072037 → "26,072,037 bytes", as toLocaleString('en-US') writes it, without its first-call
 * cost: loading the ICU locale data takes ~25 ms, a sixth of stat's start-up budget (issue 11).
 */
const bytesText = (b: number): string => `${String(b).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} bytes`;

function labelLines(name: string, s: LabelSummary | null): string[] {
  if (s === null) return [];
  if (s.kind === 'float') {
    return [`${name}: float  min ${s.min}  mean ${round(s.mean)}  max ${s.max}  (${s.distinct} distinct)`];
  }
  const entries = Object.entries(s.counts);
  return [`${name}: integer, ${entries.length} distinct`, ...entries.map(([label, count]) => `  ${label}: ${count}`)];
}

const round = (v: number): number => Math.round(v * 1e4) / 1e4;

export function formatStatText(r: StatReport): string {
  const lines = [
    `file: ${r.file}`,
    `format: ${r.format}`,
    `records: ${r.recordCount}`,
    ...labelLines('labels', r.labels),
    ...(r.label2 ? labelLines('label2', r.label2) : []),
    `annotations: ${r.annotations.records} records` +
      (Object.keys(r.annotations.shapes).length > 0
        ? `; shapes: ${Object.entries(r.annotations.shapes).map(([t, c]) => `${t} ${c}`).join(', ')}`
        : '') +
      (r.annotations.invalid > 0 ? `; ${r.annotations.invalid} not valid annotation JSON` : '') +
      (r.annotations.invalidShapes > 0
        ? `; ${r.annotations.invalidShapes} shapes out of range in ${r.annotations.invalidShapeRecords} records (first: ${r.annotations.firstInvalidShape})`
        : ''),
    `codecs: ${Object.entries(r.codecs).map(([c, k]) => `${c} ${k}`).join(', ') || 'none'}`,
  ];
  if (r.width && r.height) {
    lines.push(`width: min ${r.width.min}  median ${r.width.median}  max ${r.width.max}`);
    lines.push(`height: min ${r.height.min}  median ${r.height.median}  max ${r.height.max}`);
    const total = Object.values(r.sizeHistogram).reduce((a, b) => a + b, 0);
    lines.push('long side:');
    for (const [bucket, count] of Object.entries(r.sizeHistogram)) {
      const bar = '#'.repeat(Math.max(1, Math.round((count / total) * 40)));
      lines.push(`  ${bucket.padStart(7)}  ${String(count).padStart(7)}  ${bar}`);
    }
  }
  if (r.fileByteLength !== null) lines.push(`file size: ${bytesText(r.fileByteLength)}`);
  lines.push(`payload: ${bytesText(r.fieldByteLength)} in fields` + (r.imageByteLength === null ? ' (image bytes: use --scan)' : ` (${bytesText(r.imageByteLength)} in images)`));
  if (r.overheadPercent !== null) lines.push(`overhead: ${r.overheadPercent.toFixed(2)} %`);
  if (r.scan) {
    lines.push(
      `scan: all checksums verified in ${r.scan.seconds.toFixed(3)} s, ` +
        `${r.scan.recordsPerSecond.toFixed(0)} records/s, ${r.scan.megabytesPerSecond.toFixed(1)} MB/s`,
    );
  }
  return lines.join('\n') + '\n';
}

async function runStat(args: ParsedCommand, io: CliIo): Promise<number> {
  const report = await collectStats(args.positionals[0], { scan: flagOption(args, 'scan'), strict: flagOption(args, 'strict'), io });
  io.stdout.write(flagOption(args, 'json') ? JSON.stringify(report) + '\n' : formatStatText(report));
  return 0;
}

/**
 * Records in file order as arrays: the store's scanBatches() when it has one (the .picpac 2.0
 * reader: one await per chunk instead of per record), else scan() in arrays of one.
 */
async function* scanBatches(store: Store, verifyChecksums: boolean): AsyncGenerator<StoredRecord[]> {
  const batched = store as Store & { scanBatches?: (o: { verifyChecksums: boolean }) => AsyncIterable<StoredRecord[]> };
  if (typeof batched.scanBatches === 'function') {
    yield* batched.scanBatches({ verifyChecksums });
    return;
  }
  for await (const r of store.scan({ verifyChecksums })) yield [r];
}

/** Size of the file (a HEAD for s3://, unknown for http(s) and shard manifests). */
async function storedByteLength(path: string): Promise<number | null> {
  if (/^https?:/i.test(path) || (isUrl(path) && isShardManifestPath(path))) return null;
  if (!isUrl(path)) return fsStat(path).then((s) => s.size, () => null);
  const source = await openByteSource(path);
  await source.close();
  return source.byteLength;
}
