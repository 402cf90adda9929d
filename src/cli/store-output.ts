// Opening the file a command writes: format 2.0 (PicpacWriter) or 1.0 (V1Writer), the refusal
// to overwrite without --overwrite, and --append. Commands never construct writers directly.
import { access, writeFile } from 'node:fs/promises';
import path, { resolve } from 'node:path';
import { PicpacWriter } from '../engine/picpac/picpac-writer.ts';
import { V1Writer } from '../engine/v1/v1-writer.ts';
import { openStore, sniffFileKind } from '../engine/open-store.ts';
import { PicpacError } from '../errors.ts';
import type { NewRecord, Store, StoredRecord, StoreWriter } from '../engine/store.ts';
import type { DroppedItem } from '../engine/picpac/recovery-units.ts';
import { UsageError, intOption, type ParsedCommand } from './args.ts';
import { UploadingWriter, isS3Url, remoteOutputExists, stagingDir, writeRemoteText } from './remote-output.ts';

export type OutputFormat = 'v2' | 'v1';
export const OUTPUT_FORMATS = ['v2', 'v1'] as const;

export interface OutputOptions {
  format: OutputFormat;
  /** Format 2.0 frame alignment: 1 (compact, default) or a power of two. 1.0: >1 means aligned mode. */
  alignment?: number;
  overwrite?: boolean;
  /** Add to an existing file (created when missing). */
  append?: boolean;
}

/** A refusal that names the flag to pass (exit 1, like the engine's FileExistsError). */
export class OutputExistsError extends PicpacError {
  constructor(path: string) {
    super('EXISTS', `refusing to overwrite existing file ${path} (pass --overwrite to replace it, or --append to add to it)`);
    this.file = path;
  }
}

export async function fileExists(path: string): Promise<boolean> {
  if (isS3Url(path)) return remoteOutputExists(path);
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The format of an existing store, as openStore reports it ('picpac-2', 'picpac-1', ...). */
export async function storeFormat(path: string): Promise<string> {
  const store = await openStore(path);
  try {
    return store.format;
  } finally {
    await store.close();
  }
}

export function formatOfStore(storeFormatName: string): OutputFormat {
  return storeFormatName === 'picpac-1' ? 'v1' : 'v2';
}

export async function openOutput(path: string, options: OutputOptions): Promise<StoreWriter> {
  if (isS3Url(path)) return openS3Output(path, options);
  const exists = await fileExists(path);
  if (options.append && exists) {
    // Sniff the first bytes only: the store is opened by the writer, under its lock, so a second
    // writer gets "locked by pid N", not a half-written footer. [CON-1]
    const existing = (await sniffFileKind(path)) === 'picpac-1' ? 'v1' : 'v2';
    if (existing === 'v1') {
      const appendV1 = (V1Writer as unknown as { append?: (p: string) => Promise<StoreWriter> }).append;
      if (typeof appendV1 !== 'function') throw new UsageError(`--append is not supported for PicPac 1.0 files (${path})`);
      return appendV1.call(V1Writer, path);
    }
    return PicpacWriter.append(path);
  }
  if (exists && !options.overwrite) throw new OutputExistsError(path);
  if (options.format === 'v1') {
    return V1Writer.create(path, { compact: (options.alignment ?? 1) <= 1, overwrite: true });
  }
  return PicpacWriter.create(path, { alignment: options.alignment ?? 1, overwrite: true });
}

/** s3:// outputs: written to a local temporary file, uploaded by close() (remote-output.ts). */
async function openS3Output(url: string, options: OutputOptions): Promise<StoreWriter> {
  if (options.append) throw new UsageError(`--append is not supported for s3:// outputs (${url}): objects cannot be appended to`);
  if (!options.overwrite && (await remoteOutputExists(url))) throw new OutputExistsError(url);
  const staging = await stagingDir();
  const localPath = path.join(staging.dir, 'output' + (options.format === 'v1' ? '.db' : '.picpac'));
  try {
    const inner = await openOutput(localPath, { ...options, append: false, overwrite: false });
    return new UploadingWriter(inner, url, localPath, staging);
  } catch (err) {
    await staging.remove();
    throw err;
  }
}

/** Write a small text file next to an output (a local file or an s3:// object). */
export async function writeOutputText(location: string, text: string): Promise<void> {
  if (isS3Url(location)) await writeRemoteText(location, text);
  else await writeFile(location, text);
}

/** Writing over a file that is being read would destroy it: refuse before opening anything. */
export function checkNotSameFile(out: string, inputs: string[], command: string, options: { allowAppend?: boolean } = {}): void {
  if (options.allowAppend) return;
  for (const input of inputs) {
    const remote = /^(https?|s3):\/\//i;
    if (remote.test(input) || remote.test(out) ? input === out : resolve(input) === resolve(out)) {
      throw new UsageError(`the output ${out} is also an input; write to another file${command === 'convert' ? '' : ' (or use --append)'}`, command);
    }
  }
}

/** Refuse an existing output before any work, unless --overwrite (openOutput checks again when it opens). */
export async function refuseExisting(path: string, overwrite: boolean): Promise<void> {
  if (!overwrite && (await fileExists(path))) throw new OutputExistsError(path);
}

/** --align: 1 or a power of two (undefined when not given). */
export function alignOption(args: ParsedCommand, command: string): number | undefined {
  const alignment = intOption(args, 'align', { min: 1 }, command);
  if (alignment === undefined) return undefined;
  if (alignment < 1 || (alignment & (alignment - 1)) !== 0 || alignment > 1 << 20) {
    throw new UsageError(`invalid value for --align: expected 1 or a power of two up to 1048576, got '${alignment}'`, command);
  }
  return alignment;
}

/**
 * A stored record as a record to append (fields, labels, id and annotation kept). Field bytes
 * are copied: scans hand out views into a reused buffer, valid for one step only.
 */
export function toNewRecord(r: StoredRecord, overrides: { label?: number } = {}): NewRecord {
  const record: NewRecord = {
    id: r.id,
    label: overrides.label ?? r.label,
    label2: r.label2,
    fields: r.fields.map((f) => ({ kind: f.kind, codec: f.codec, bytes: f.bytes.slice(), width: f.width, height: f.height })),
  };
  if (r.annotation !== undefined) record.annotation = r.annotation;
  return record;
}

/** Alignment of an open 2.0 store when the backend exposes it (repair/convert keep it). */
export function alignmentOf(store: Store): number | undefined {
  const s = store as Store & { alignment?: number; header?: { alignment?: number }; mode?: string };
  if (typeof s.alignment === 'number') return s.alignment;
  if (typeof s.header?.alignment === 'number') return s.header.alignment;
  if (s.mode === 'compact' || s.mode === 'aligned') return s.mode === 'compact' ? 1 : 4096;
  return undefined;
}

export interface RecoveryInfo {
  /** The file needed recovery (no valid footer / closed segments, or damage found). */
  recovered: boolean;
  /** Where the intact data ends when bytes after it were dropped. */
  tornTailOffset: number | undefined;
  /** What broke, as the reader reported it (1.0 readers list problems). */
  problems: string[];
  /** 2.0: what the recovery scan did not keep (damaged ranges, records whose annotation was lost). */
  dropped: DroppedItem[];
  tornReason?: string;
  /** Every frame of the file was committed (2.0: it ends with a footer, nothing torn or skipped). */
  committed: boolean;
}

/** One "dropped:" line: what, where, which record. */
export function describeDropped(d: DroppedItem): string {
  const record = d.recordIndex !== undefined ? `record ${d.recordIndex}, ` : '';
  return `${record}bytes ${d.byteOffset}..${d.byteOffset + d.byteLength}: ${d.what}`;
}

/** What recovery found, for both backends (2.0: recovered/tornTailOffset; 1.0: a report). */
export function recoveryInfo(store: Store, fileByteLength: number | undefined): RecoveryInfo {
  const v2 = store as Store & { recovered?: boolean; tornTailOffset?: number; recovery?: { dropped: DroppedItem[]; tornReason?: string; endsCommitted?: boolean } };
  const v1 = store as Store & {
    recovery?: { tailByteOffset: number; problems: Array<{ message: string }>; closedSegmentRecords: number };
  };
  if (store.format === 'picpac-1' && v1.recovery !== undefined) {
    const tail = v1.recovery.tailByteOffset;
    const torn = fileByteLength !== undefined && tail < fileByteLength ? tail : undefined;
    const recovered = v1.recovery.problems.length > 0;
    return { recovered, tornTailOffset: torn, problems: v1.recovery.problems.map((p) => p.message), dropped: [], committed: !recovered && torn === undefined };
  }
  const torn = v2.tornTailOffset;
  return {
    recovered: v2.recovered === true, tornTailOffset: torn !== undefined && torn >= 0 ? torn : undefined, problems: [],
    dropped: v2.recovery?.dropped ?? [], tornReason: v2.recovery?.tornReason, committed: v2.recovered !== true || v2.recovery?.endsCommitted === true,
  };
}

/**
 * Appends without awaiting each record, so the writer can batch frames into large writes (an
 * await per append would cost one write call per record), with at most `maxPending`
 * unacknowledged appends to bound memory. A write failure surfaces at the next add or drain.
 */
export class AppendQueue {
  private readonly writer: StoreWriter;
  private readonly maxPending: number;
  private readonly pending: Promise<number>[] = [];
  count = 0;

  /** `onAcknowledged` runs once per append the writer acknowledged (progress counts durable records, not queued ones). */
  constructor(writer: StoreWriter, maxPending = 1024, private readonly onAcknowledged?: () => void) {
    this.writer = writer;
    this.maxPending = maxPending;
  }

  async add(record: NewRecord): Promise<void> {
    const ack = this.writer.append(record);
    if (this.onAcknowledged) ack.then(this.onAcknowledged, () => {});
    ack.catch(() => {}); // observed by drain/add below; avoid an unhandled-rejection crash meanwhile
    this.pending.push(ack);
    this.count++;
    if (this.pending.length >= this.maxPending) await this.pending.shift();
  }

  /** Wait for every append to be acknowledged (throws the first failure). */
  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
  }
}

/**
 * Carry a file's metadata (its class table, SPEC §9.1) into a copy. Returns what happened, so a
 * caller can say so: 'none' (no metadata), 'copied', 'dropped' (the output cannot hold it:
 * PicPac 1.0, LMDB) or 'unreadable' (a damaged metadata frame, e.g. in a file being repaired).
 */
export async function copyMetadata(from: Store, to: StoreWriter): Promise<'none' | 'copied' | 'dropped' | 'unreadable'> {
  let text: string | undefined;
  try {
    text = await from.getMetadata?.();
  } catch {
    return 'unreadable';
  }
  if (text === undefined) return 'none';
  if (!to.setMetadata) return 'dropped';
  await to.setMetadata(text);
  return 'copied';
}
