// The overview: statistics of the whole database from the in-memory index (counts, labels,
// annotated records, image sizes, codecs), plus a sampled scan bounded in bytes like the
// explorer's --max-peek (shapes by type, sizes the index lacks, thumbnails per class, collage).
// The JSON keeps the explorer's /api/overview shape: SUMMARY [{key, name, value, display}],
// SAMPLE_SIZES, LABEL1_CNT, LABEL2_CNT, SHAPE_CNT; picpac's additions use lower-case keys.
//
// Opening stays as fast as reading the index: the scan runs in the background after start-up
// and /api/overview waits for it (it is bounded by maxPeekBytes). The index part is recomputed
// when the record count changes (a file being appended to).
import { RNG_TAG, Rng } from '../engine/rng.ts';
import type { StoredRecord } from '../engine/store.ts';
import { sniffImage } from '../format/image-sniff.ts';
import { ImageCodec } from '../format/layout.ts';
import { parseAnnotation } from '../augment/annotation.ts';
import type { LiveStore } from './live-store.ts';

export interface OverviewOptions {
  /** Bytes of records the sampled scan reads at most (default 1000 MiB, the explorer's --max-peek); all when within +20 %. */
  maxPeekBytes?: number;
  /** Seed of the sample (default 2016). */
  seed?: number;
}

export type Task = 'segmentation' | 'classification' | 'regression' | 'none';

interface SummaryEntry {
  key: string;
  name: string;
  value: number | string | boolean;
  display: string;
}

interface ValueStats {
  /** [value, count], ascending by value; at most MAX_DISTINCT entries. */
  counts: [number, number][];
  distinct: number;
  /** More distinct values than were counted (DISTINCT_LIMIT): `distinct` is a lower bound. */
  capped: boolean;
  /** Records whose value is not an integer. */
  floatCount: number;
  min: number;
  max: number;
  /** 20 equal-width bins over [min, max] (for regression labels). */
  histogram: { from: number; to: number; count: number }[];
}

interface ScanResult {
  scannedImages: number;
  scannedBytes: number;
  allScanned: boolean;
  seconds: number;
  /** The first 20 failures, and how many in all. */
  errors: { recordIndex: number; message: string }[];
  errorCount: number;
  shapeCounts: Map<string, number>;
  invalidAnnotations: number;
  annotatedScanned: number;
  labelFieldRecords: number;
  fieldTypes: Map<string, number>;
  /** Image sizes of scanned records the index did not know. */
  sniffedSizes: Map<number, { width: number; height: number }>;
  /** Scanned record indices in sample order (collage, thumbnails). */
  sampled: number[];
}

const MAX_DISTINCT = 1000;
/** Distinct values counted at most (memory bound for regression labels over millions of records). */
const DISTINCT_LIMIT = MAX_DISTINCT * 10;
const MAX_THUMBS_PER_CLASS = 100;
const CODEC_NAMES = new Map<number, string>(Object.entries(ImageCodec).map(([name, code]) => [code, name]));

export class Overview {
  private readonly maxPeekBytes: number;
  private readonly seed: number;
  private scan: Promise<ScanResult> | undefined;
  private stopped = false;
  private cached: { generation: number; json: Record<string, unknown>; classes: ClassTable } | undefined;

  constructor(private readonly live: LiveStore, options: OverviewOptions = {}) {
    this.maxPeekBytes = options.maxPeekBytes ?? 1000 * 2 ** 20;
    this.seed = options.seed ?? 2016;
    if (!(this.maxPeekBytes >= 0)) throw new RangeError(`Expected a non-negative number for maxPeekBytes but received ${this.maxPeekBytes}`);
  }

  /** Start the sampled scan (idempotent). */
  start(): Promise<ScanResult> {
    this.scan ??= this.runScan();
    return this.scan;
  }

  /** Stop the sampled scan early (server shutdown); what was read so far stays the result. */
  stop(): void {
    this.stopped = true;
  }

  /** The /api/overview JSON. */
  async json(): Promise<Record<string, unknown>> {
    return (await this.current()).json;
  }

  /** Thumbnail classes: label values and the sampled record indices of each. */
  async classes(): Promise<ClassTable> {
    return (await this.current()).classes;
  }

  /** Record indices for the collage (sample order). */
  async collageIndices(): Promise<number[]> {
    return (await this.start()).sampled;
  }

  private async current(): Promise<{ json: Record<string, unknown>; classes: ClassTable }> {
    const scan = await this.start();
    const generation = this.live.generation;
    if (this.cached?.generation !== generation) {
      const built = await this.build(scan);
      this.cached = { generation, ...built };
    }
    return this.cached;
  }

  private async runScan(): Promise<ScanResult> {
    const store = this.live.store;
    const count = store.recordCount;
    const started = performance.now();
    let totalBytes = 0;
    for (let i = 0; i < count; i++) totalBytes += store.meta(i).byteLength;
    const allScanned = totalBytes <= this.maxPeekBytes * 1.2;
    let order: number[];
    if (allScanned) {
      order = Array.from({ length: count }, (_, i) => i);
    } else {
      // Partial Fisher-Yates until the byte budget is used.
      const rng = new Rng(this.seed, RNG_TAG.shuffle, 0x5ca7);
      const pool = Array.from({ length: count }, (_, i) => i);
      let budget = this.maxPeekBytes;
      order = [];
      for (let k = 0; k < count && budget > 0; k++) {
        const j = k + Math.floor(rng.next() * (count - k));
        [pool[k], pool[j]] = [pool[j], pool[k]];
        order.push(pool[k]);
        budget -= Math.max(1, store.meta(pool[k]).byteLength);
      }
    }
    const result: ScanResult = {
      scannedImages: 0, scannedBytes: 0, allScanned, seconds: 0, errors: [], errorCount: 0, shapeCounts: new Map(), invalidAnnotations: 0,
      annotatedScanned: 0, labelFieldRecords: 0, fieldTypes: new Map(), sniffedSizes: new Map(), sampled: [],
    };
    // Sample order for the collage: seeded shuffle of what was read.
    const shuffled = allScanned ? shuffle(order.slice(), new Rng(this.seed, RNG_TAG.shuffle, 0xc011)) : order.slice();
    const reads = allScanned ? order : order.slice().sort((a, b) => a - b);
    let next = 0;
    const failed = new Set<number>();
    const worker = async () => {
      while (next < reads.length && !this.stopped) {
        const recordIndex = reads[next++];
        try {
          this.account(await store.get(recordIndex), result);
        } catch (error) {
          result.errorCount++;
          failed.add(recordIndex);
          if (result.errors.length < 20) result.errors.push({ recordIndex, message: (error as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    result.sampled = shuffled.filter((i) => !failed.has(i));
    result.seconds = (performance.now() - started) / 1000;
    return result;
  }

  private account(record: StoredRecord, out: ScanResult): void {
    out.scannedImages++;
    out.scannedBytes += record.byteLength;
    for (const field of record.fields) out.fieldTypes.set(field.type, (out.fieldTypes.get(field.type) ?? 0) + 1);
    if (record.fields.some((f) => f.kind === 'label')) out.labelFieldRecords++;
    if (record.width === 0 || record.height === 0) {
      const image = record.fields.find((f) => f.kind === 'image');
      const size = image && (image.width > 0 ? image : sniffImage(image.bytes));
      if (size && size.width > 0 && size.height > 0) out.sniffedSizes.set(record.recordIndex, { width: size.width, height: size.height });
    }
    if (record.annotation !== undefined) {
      out.annotatedScanned++;
      try {
        for (const shape of parseAnnotation(record.annotation, { recordIndex: record.recordIndex }).shapes) {
          out.shapeCounts.set(shape.type, (out.shapeCounts.get(shape.type) ?? 0) + 1);
        }
      } catch {
        out.invalidAnnotations++;
      }
    }
  }

  private async build(scan: ScanResult): Promise<{ json: Record<string, unknown>; classes: ClassTable }> {
    const store = this.live.store;
    const count = store.recordCount;
    const labels = new Float64Array(count);
    const labels2 = new Float64Array(count);
    let annotated = 0;
    let recordBytes = 0;
    const sizes: { width: number; height: number }[] = [];
    const codecs = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const m = store.meta(i);
      labels[i] = m.label;
      labels2[i] = m.label2;
      if (m.hasAnnotation) annotated++;
      recordBytes += m.byteLength;
      const size = m.width > 0 && m.height > 0 ? m : scan.sniffedSizes.get(i);
      if (size) sizes.push({ width: size.width, height: size.height });
      const codec = CODEC_NAMES.get(m.imageCodec) ?? 'unknown';
      codecs.set(codec, (codecs.get(codec) ?? 0) + 1);
    }
    const label1 = valueStats(labels);
    const label2 = valueStats(labels2);
    const shapeTotal = [...scan.shapeCounts.values()].reduce((a, b) => a + b, 0);
    const segmentation = annotated > 0 || scan.labelFieldRecords > 0;
    const task: Task = segmentation ? 'segmentation'
      : label1.distinct > 1 && label1.floatCount === 0 ? 'classification'
        : label1.distinct > 1 ? 'regression' : 'none';
    const groupBy = label1.distinct > 1 ? (label1.floatCount === 0 ? 'label' : 'int(label)') : label2.distinct > 1 ? 'label2' : 'NONE';
    const group = groupBy === 'label2' ? label2 : label1;
    // Thumbnail classes: integral labels when the database looks like classification.
    const classification = label1.distinct > 1 && label1.floatCount === 0 && label1.distinct <= MAX_DISTINCT;
    const classValues = classification ? label1.counts.map(([v]) => v) : [0];
    const classOf = new Map(classValues.map((v, k) => [v, k]));
    const members: number[][] = classValues.map(() => []);
    for (const recordIndex of scan.sampled) {
      if (recordIndex >= count) continue;
      const k = classification ? classOf.get(labels[recordIndex]) : 0;
      if (k !== undefined && members[k].length < MAX_THUMBS_PER_CLASS) members[k].push(recordIndex);
    }
    const fileByteLength = await this.live.fileByteLength();
    const totalBytes = fileByteLength ?? recordBytes;
    const mb = (bytes: number) => bytes / 2 ** 20;
    let scale = 0;
    let hwr = 0;
    let portrait = 0;
    for (const s of sizes) {
      scale += Math.sqrt(s.width * s.height);
      hwr += s.height / s.width;
      if (s.height > s.width) portrait++;
    }
    const summary: SummaryEntry[] = [];
    const add = (key: string, name: string, value: number | string | boolean, display = typeof value === 'number' ? formatNumber(value) : String(value)) => {
      summary.push({ key, name, value, display });
    };
    add('TOTAL_IMAGES', 'Total images', count);
    add('TOTAL_MB', 'Total size (MB)', round(mb(totalBytes), 2));
    add('TASK', 'Task', task);
    add('GROUP_BY', 'Group by', groupBy);
    const distinctText = (v: ValueStats) => `${formatNumber(v.distinct)}${v.capped ? '+' : ''}`;
    add('GROUP_CNT', 'Groups', group.distinct, distinctText(group));
    add('GROUP_FLOAT_CNT', 'Non-integral group values', group.floatCount);
    add('GROUP_ISNT_LABEL1', 'Group is not label', groupBy !== 'label' && groupBy !== 'int(label)');
    add('GROUP_ISNT_LABEL2', 'Group is not label2', groupBy !== 'label2');
    add('LABEL1_CNT', 'Distinct labels', label1.distinct, distinctText(label1));
    add('LABEL1_FLOAT_CNT', 'Non-integral labels', label1.floatCount);
    if (label1.distinct === 1) add('LABEL1_VALUE', 'Label value', label1.counts[0][0]);
    add('LABEL2_CNT', 'Distinct label2 values', label2.distinct, distinctText(label2));
    add('LABEL2_FLOAT_CNT', 'Non-integral label2 values', label2.floatCount);
    if (label2.distinct === 1) add('LABEL2_VALUE', 'Label2 value', label2.counts[0][0]);
    add('ANNOTATED_CNT', 'Annotated images', annotated);
    add('SHAPE_CNT', 'Shapes (scanned)', shapeTotal);
    if (scan.shapeCounts.size === 1) add('SHAPE_TYPE', 'Shape type', [...scan.shapeCounts.keys()][0]);
    add('ALL_SCANNED', 'All scanned', scan.allScanned);
    add('SCANNED_IMAGES', 'Scanned images', scan.scannedImages);
    add('SCANNED_MB', 'Scanned (MB)', round(mb(scan.scannedBytes), 2));
    add('SCAN_RATIO', 'Scan ratio', round(count === 0 ? 1 : scan.scannedImages / count, 4));
    add('SCAN_TIME', 'Scan time (s)', round(scan.seconds, 3));
    add('SCAN_THROUGHPUT', 'Scan throughput (MB/s)', round(scan.seconds > 0 ? mb(scan.scannedBytes) / scan.seconds : 0, 1));
    if (sizes.length > 0) {
      add('MEAN_SCALE', 'Mean scale √(W·H)', round(scale / sizes.length, 1));
      add('MEAN_HWR', 'Mean height/width', round(hwr / sizes.length, 3));
      add('TYPICAL_LAYOUT', 'Typical layout', portrait * 2 > sizes.length ? 'portrait' : 'landscape');
    }
    const json: Record<string, unknown> = {
      SUMMARY: summary,
      SAMPLE_SIZES: members.map((m) => m.length),
      CLASSES: classValues,
      LABEL1_CNT: label1.counts,
      LABEL2_CNT: label2.counts,
      SHAPE_CNT: [...scan.shapeCounts.entries()].sort((a, b) => b[1] - a[1]),
      // picpac additions
      name: store.name.split(/[\\/]/).pop(),
      format: store.format,
      recordCount: count,
      fileByteLength,
      recordByteLength: recordBytes,
      annotatedCount: annotated,
      recovered: this.live.recovered,
      task,
      labels: describeLabels(label1),
      labels2: describeLabels(label2),
      shapes: { counts: Object.fromEntries(scan.shapeCounts), invalidAnnotations: scan.invalidAnnotations, annotatedScanned: scan.annotatedScanned },
      sizes: sizeStats(sizes),
      codecs: Object.fromEntries(codecs),
      fieldTypes: Object.fromEntries(scan.fieldTypes),
      scanErrors: { count: scan.errorCount, first: scan.errors },
    };
    return { json, classes: { values: classValues, members } };
  }
}

export interface ClassTable {
  /** Label value of each class (a single 0 when the database is not classification). */
  values: number[];
  /** Sampled record indices per class. */
  members: number[][];
}

function valueStats(values: Float64Array): ValueStats {
  const counts = new Map<number, number>();
  let capped = false;
  let floatCount = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isInteger(v)) floatCount++;
    if (v < min) min = v;
    if (v > max) max = v;
    if (counts.size < DISTINCT_LIMIT || counts.has(v)) counts.set(v, (counts.get(v) ?? 0) + 1);
    else capped = true;
  }
  const sorted = [...counts.entries()].sort((a, b) => a[0] - b[0]);
  const histogram: ValueStats['histogram'] = [];
  if (values.length > 0) {
    const bins = min === max ? 1 : 20;
    const width = (max - min) / bins || 1;
    for (let b = 0; b < bins; b++) histogram.push({ from: min + b * width, to: min + (b + 1) * width, count: 0 });
    for (const v of values) histogram[Math.min(bins - 1, Math.floor((v - min) / width))].count++;
  }
  return { counts: sorted.slice(0, MAX_DISTINCT), distinct: counts.size, capped, floatCount, min, max, histogram };
}

function describeLabels(s: ValueStats): Record<string, unknown> {
  if (s.distinct === 0) return { kind: 'empty' };
  if (s.distinct === 1) return { kind: 'constant', value: s.counts[0][0] };
  if (s.floatCount === 0) return { kind: 'integer', distinct: s.distinct, distinctCapped: s.capped, counts: s.counts };
  return { kind: 'float', distinct: s.distinct, distinctCapped: s.capped, min: s.min, max: s.max, histogram: s.histogram };
}

function sizeStats(sizes: { width: number; height: number }[]): Record<string, unknown> | null {
  if (sizes.length === 0) return null;
  const widths = sizes.map((s) => s.width).sort((a, b) => a - b);
  const heights = sizes.map((s) => s.height).sort((a, b) => a - b);
  const pick = (v: number[]) => ({ min: v[0], median: v[(v.length - 1) >> 1], max: v[v.length - 1] });
  const buckets = new Map<number, number>();
  const common = new Map<string, number>();
  for (const s of sizes) {
    const long = Math.max(s.width, s.height);
    const bucket = 2 ** Math.max(5, Math.ceil(Math.log2(long)));
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    const key = `${s.width}x${s.height}`;
    if (common.size < 10000 || common.has(key)) common.set(key, (common.get(key) ?? 0) + 1);
  }
  return {
    known: sizes.length,
    width: pick(widths),
    height: pick(heights),
    longSide: [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([upTo, count]) => ({ upTo, count })),
    common: [...common.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([size, count]) => ({ size, count })),
  };
}

function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let k = items.length - 1; k > 0; k--) {
    const j = Math.floor(rng.next() * (k + 1));
    [items[k], items[j]] = [items[j], items[k]];
  }
  return items;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : String(value);
}
