// `--shard-size`: one output split into numbered shards `part-00000.picpac`, `part-00001.picpac`,
// … plus the manifest of SPEC §16 (`index.picpac.json`), in a local directory or under an
// s3:// prefix. A shard is closed (and, on s3://, uploaded) when the next record would take
// it past the size; the manifest is written last, so a stopped command leaves no manifest
// that names missing or unfinished shards.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SHARD_MANIFEST_FORMAT, SHARD_MANIFEST_VERSION } from '../engine/sources/shards.ts';
import type { ShardEntry, ShardManifest } from '../engine/sources/shards.ts';
import { writeFileAtomically } from '../engine/rewrite.ts';
import type { NewRecord, StoreWriter } from '../engine/store.ts';
import { outOfRangeError } from '../errors.ts';
import { parseByteSize } from '../engine/byte-size.ts';
import { UsageError, stringOption, type ParsedCommand } from './args.ts';
import { UploadingWriter, isS3Url, writeRemoteText } from './remote-output.ts';
import { OutputExistsError, fileExists, openOutput } from './store-output.ts';
import type { OutputOptions } from './store-output.ts';

export const MANIFEST_NAME = 'index.picpac.json';

/** Bytes a record adds to a shard besides its fields (frame, record header, field headers). */
const RECORD_OVERHEAD_BYTES = 64;
const FIELD_OVERHEAD_BYTES = 16;

/** Where the manifest and the shards go: OUT/ (a directory or s3:// prefix) or OUT.picpac.json. */
export function shardLayout(out: string): { manifest: string; shardPath: (n: number) => string } {
  const remote = isS3Url(out);
  const manifest = out.endsWith('.picpac.json') ? out : remote ? `${out.replace(/\/*$/, '')}/${MANIFEST_NAME}` : path.join(out, MANIFEST_NAME);
  const dir = remote ? manifest.slice(0, manifest.lastIndexOf('/')) : path.dirname(manifest);
  const name = (n: number) => `part-${String(n).padStart(5, '0')}.picpac`;
  return { manifest, shardPath: (n) => (remote ? `${dir}/${name(n)}` : path.join(dir, name(n))) };
}

/** --shard-size SIZE in bytes (undefined when absent); at least 64KB. */
export function shardSizeOption(args: ParsedCommand, command: string): number | undefined {
  const text = stringOption(args, 'shard-size');
  if (text === undefined) return undefined;
  let bytes: number;
  try {
    bytes = parseByteSize(text, '--shard-size');
  } catch {
    throw new UsageError(`invalid value for --shard-size: expected a size such as 512MB or 1GiB, got '${text}'`, command);
  }
  if (bytes < MIN_SHARD_BYTES) throw new UsageError(`--shard-size must be at least 64KB, got '${text}'`, command);
  return bytes;
}

/** Smaller shards only multiply requests and files. */
const MIN_SHARD_BYTES = 64e3;

export function recordByteEstimate(record: NewRecord): number {
  let bytes = RECORD_OVERHEAD_BYTES + Buffer.byteLength(record.annotation ?? '');
  for (const f of record.fields) bytes += FIELD_OVERHEAD_BYTES + f.bytes.length;
  return bytes;
}

export class ShardedWriter implements StoreWriter {
  readonly name: string;
  private readonly layout: ReturnType<typeof shardLayout>;
  private readonly shardBytes: number;
  private readonly options: OutputOptions;
  private readonly entries: ShardEntry[] = [];
  private current: { writer: StoreWriter; path: string; first: number; acks: Promise<number>[] } | undefined;
  /** Opening the next shard; appends queue behind it so records keep their order. */
  private opening: Promise<void> = Promise.resolve();
  private count = 0;
  /** Estimated bytes of the shard being filled; -1 before the first. */
  private plannedBytes = -1;

  private constructor(out: string, shardBytes: number, options: OutputOptions) {
    this.layout = shardLayout(out);
    this.name = this.layout.manifest;
    this.shardBytes = shardBytes;
    this.options = options;
  }

  /** Refuses (OutputExistsError) when the manifest exists, unless overwrite. */
  static async create(out: string, shardBytes: number, options: OutputOptions): Promise<ShardedWriter> {
    if (!Number.isSafeInteger(shardBytes) || shardBytes < 1) throw outOfRangeError('shardBytes', 'a positive byte count', shardBytes);
    const writer = new ShardedWriter(out, shardBytes, options);
    if (!options.overwrite && (await fileExists(writer.layout.manifest))) throw new OutputExistsError(writer.layout.manifest);
    if (!isS3Url(out)) await mkdir(path.dirname(writer.layout.manifest), { recursive: true });
    return writer;
  }

  get recordCount(): number {
    return this.count;
  }

  /** Shards closed so far (all of them after close()). */
  get shardCount(): number {
    return this.entries.length;
  }

  append(record: NewRecord): Promise<number> {
    const bytes = recordByteEstimate(record);
    const index = this.count++;
    // A record without an id gets its dataset-wide index (a shard writer would use its local one).
    if (record.id === undefined) record = { ...record, id: index };
    // The shard is chosen now, synchronously, so records keep their order whatever the awaits.
    if (this.plannedBytes < 0 || (this.plannedBytes > 0 && this.plannedBytes + bytes > this.shardBytes)) {
      this.plannedBytes = 0;
      this.opening = this.opening.then(() => this.nextShard(index));
    }
    this.plannedBytes += bytes;
    return this.opening.then(() => {
      const shard = this.current!;
      const appended = shard.writer.append(record).then((local) => shard.first + local);
      shard.acks.push(appended);
      return appended;
    });
  }

  async setAnnotation(recordIndex: number, annotation: string | undefined): Promise<void> {
    await this.opening;
    const c = this.current;
    if (!c || recordIndex < c.first) throw outOfRangeError('recordIndex', `a record of the open shard (${c?.first ?? 0} or later)`, recordIndex);
    await c.writer.setAnnotation(recordIndex - c.first, annotation);
  }

  async flush(options?: { fsync?: boolean }): Promise<void> {
    await this.opening;
    await this.current?.writer.flush(options);
  }

  /** Close the last shard, then write the manifest. */
  async close(): Promise<void> {
    await this.opening;
    await this.finishShard();
    const manifest: ShardManifest = { format: SHARD_MANIFEST_FORMAT, version: SHARD_MANIFEST_VERSION, shards: this.entries };
    const text = JSON.stringify(manifest, null, 2) + '\n';
    if (isS3Url(this.layout.manifest)) await writeRemoteText(this.layout.manifest, text);
    else await writeFileAtomically(this.layout.manifest, (tmp) => writeFile(tmp, text), { overwrite: true });
  }

  /** Give up: close what is open; no manifest is written. */
  async abort(): Promise<void> {
    await this.opening.catch(() => {});
    const c = this.current;
    this.current = undefined;
    const abortable = c?.writer as (StoreWriter & { abort?: () => Promise<void> }) | undefined;
    if (abortable?.abort) await abortable.abort().catch(() => {});
    else await c?.writer.close().catch(() => {});
  }

  private async nextShard(first: number): Promise<void> {
    await this.finishShard();
    const shardPath = this.layout.shardPath(this.entries.length);
    const writer = await openOutput(shardPath, { ...this.options, append: false });
    this.current = { writer, path: shardPath, first, acks: [] };
  }

  private async finishShard(): Promise<void> {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    await Promise.all(c.acks);
    await c.writer.close();
    const byteLength = c.writer instanceof UploadingWriter ? c.writer.uploadedByteLength : (await stat(c.path)).size;
    const relative = isS3Url(c.path) ? c.path.slice(c.path.lastIndexOf('/') + 1) : path.basename(c.path);
    this.entries.push({ path: relative, recordCount: c.writer.recordCount, byteLength });
  }
}
