// Writer of PicPac 1.0 files that the ORIGINAL reader accepts, byte for byte what the original
// C++/Python writer produces for the same records: a zeroed segment header (magic, version) is
// written first, records are appended (padded to 4096 bytes unless compact), a segment is closed
// at 1020 records by rewriting its header in place with `link`, and close() rewrites the last
// header with link = file length. Padding is written as zeros (the original seeks over it and
// truncates at the end; the bytes are the same).
//
// 1.0 has no side index, so an annotation cannot change after its record is written:
// setAnnotation always throws (records are handed to the OS on append, never buffered).
import { open, type FileHandle } from 'node:fs/promises';
import { ClosedError, FileExistsError, PicpacError, SourceError, invalidParameterError } from '../../errors.ts';
import { MAX_SEG_RECORDS, RECORD_ALIGN, SEGMENT_HEADER_SIZE } from '../../format/v1/layout.ts';
import { encodeV1Record } from '../../format/v1/record.ts';
import { encodeSegmentHeader } from '../../format/v1/segment.ts';
import type { NewRecord, StoreWriter } from '../store.ts';
import { v1SlotsOfNewRecord } from './v1-mapping.ts';
import { WriterLock } from '../picpac/writer-lock.ts';

export interface V1WriterOptions {
  /** Records back to back (the Python writer's default) instead of padded to 4096. Default true. */
  compact?: boolean;
  /** Replace an existing file. Default false: an existing file is a FileExistsError. */
  overwrite?: boolean;
  /** Store label2 instead of label in the segment's groups[] (INDEX_LABEL2). Default false. */
  indexLabel2?: boolean;
}

/** A record in 1.0 terms: the raw slot payloads. */
export interface V1RecordInput {
  /** u32; default the record index (the Python writer's auto-numbering). */
  id?: number;
  /** Stored as float32; default 0. */
  label?: number;
  /** i16; default 0. */
  label2?: number;
  /** 0..6 payloads. */
  fields: Uint8Array[];
}

/**
 * Writes a PicPac 1.0 file that the original C++/Python reader accepts, byte for byte as the
 * original writer would. 1.0 has no side index, so `setAnnotation` always throws: give the
 * annotation with the record.
 */
export class V1Writer implements StoreWriter {
  readonly name: string;
  readonly compact: boolean;
  readonly indexLabel2: boolean;
  private handle: FileHandle | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: unknown;
  private count = 0;
  private byteOffset = SEGMENT_HEADER_SIZE;
  private segmentOffset = 0;
  private sizes: number[] = [];
  private groups: number[] = [];
  /** `<path>.lock` until close() [CON-1]. */
  private readonly lock: WriterLock;

  private constructor(path: string, handle: FileHandle, lock: WriterLock, options: Required<V1WriterOptions>) {
    this.name = path;
    this.handle = handle;
    this.lock = lock;
    this.compact = options.compact;
    this.indexLabel2 = options.indexLabel2;
  }

  /**
   * Create a 1.0 file and write its first (empty, unclosed) segment header.
   * @param [options.compact=true] records back to back; false pads each to 4096 bytes
   * @param [options.overwrite=false] replace an existing file (else FileExistsError)
   * @param [options.indexLabel2=false] groups[] holds label2 instead of label
   */
  static async create(path: string, options?: V1WriterOptions): Promise<V1Writer> {
    if (typeof path !== 'string' || path === '') throw invalidParameterError('path', 'a non-empty string', path);
    const opts: Required<V1WriterOptions> = { compact: true, overwrite: false, indexLabel2: false, ...options };
    for (const key of ['compact', 'overwrite', 'indexLabel2'] as const) {
      if (typeof opts[key] !== 'boolean') throw invalidParameterError(`options.${key}`, 'a boolean', opts[key]);
    }
    const lock = await WriterLock.acquire(path); // before 'w' truncates anything [CON-1]
    let handle: FileHandle;
    try {
      handle = await open(path, opts.overwrite ? 'w' : 'wx');
    } catch (err) {
      await lock.release();
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(path);
      throw new SourceError(`cannot create ${path}: ${(err as Error).message}`, { cause: err });
    }
    const writer = new V1Writer(path, handle, lock, opts);
    try {
      await writer.writeAt(writer.segmentHeader(0), 0);
    } catch (err) {
      await handle.close().catch(() => {});
      await lock.release();
      throw err;
    }
    return writer;
  }

  get recordCount(): number {
    return this.count;
  }

  /** Append a typed record: slots = fields with the annotation at slot 1 (see v1-mapping.ts). */
  async append(record: NewRecord): Promise<number> {
    this.checkUsable();
    const slots = v1SlotsOfNewRecord(record, { byteOffset: this.byteOffset, recordIndex: this.count });
    return this.appendV1({ id: record.id, label: record.label, label2: record.label2, fields: slots });
  }

  /** Append raw 1.0 slots (copying a 1.0 file, or tests of the exact layout). */
  async appendV1(record: V1RecordInput): Promise<number> {
    this.checkUsable();
    if (record === null || typeof record !== 'object') throw invalidParameterError('record', 'an object', record);
    const recordIndex = this.count;
    const id = record.id ?? recordIndex;
    const label = record.label ?? 0;
    const label2 = record.label2 ?? 0;
    // Eager validation and encoding, before anything is queued.
    const bytes = encodeV1Record(
      { id, label, label2, fields: record.fields },
      { align: this.compact ? 1 : RECORD_ALIGN, byteOffset: this.byteOffset, recordIndex },
    );
    const group = this.indexLabel2 ? label2 : Math.fround(label);
    this.count++;
    await this.enqueue(async () => {
      if (this.sizes.length === MAX_SEG_RECORDS) await this.startSegment();
      await this.writeAt(bytes, this.byteOffset);
      this.sizes.push(bytes.length);
      this.groups.push(group);
      this.byteOffset += bytes.length;
    });
    return recordIndex;
  }

  /** Always throws: a 1.0 record cannot change once written (no side index). */
  async setAnnotation(recordIndex: number, annotation: string | undefined): Promise<void> {
    this.checkUsable();
    void annotation;
    throw new PicpacError(
      'UNSUPPORTED_VERSION',
      `${this.name}: PicPac 1.0 cannot change the annotation of record ${recordIndex} after it is written ` +
        '(the format has no side index); pass the annotation to append(), or write format 2.0',
    );
  }

  async flush(options?: { fsync?: boolean }): Promise<void> {
    this.checkUsable();
    await this.enqueue(async () => {
      if (options?.fsync) await this.handle!.sync();
    });
  }

  /** Close the last segment (link = file length), truncate to it, close the file. Idempotent. */
  async close(): Promise<void> {
    if (!this.handle) return;
    try {
      await this.enqueue(async () => {
        await this.writeAt(this.segmentHeader(this.byteOffset), this.segmentOffset);
        await this.handle!.truncate(this.byteOffset);
      });
    } finally {
      const handle = this.handle;
      this.handle = undefined;
      try {
        await handle.close();
      } finally {
        await this.lock.release();
      }
    }
  }

  /** The current segment's header; link 0 = still open (what a crash leaves on disk). */
  private segmentHeader(link: number): Uint8Array {
    return encodeSegmentHeader({ recordCount: link === 0 ? 0 : this.sizes.length, link, sizes: this.sizes, groups: this.groups });
  }

  /** The 1021st record: close the full segment in place, open a new one where the file ends. */
  private async startSegment(): Promise<void> {
    await this.writeAt(this.segmentHeader(this.byteOffset), this.segmentOffset);
    this.segmentOffset = this.byteOffset;
    this.sizes = [];
    this.groups = [];
    await this.writeAt(this.segmentHeader(0), this.segmentOffset);
    this.byteOffset += SEGMENT_HEADER_SIZE;
  }

  private async writeAt(bytes: Uint8Array, byteOffset: number): Promise<void> {
    let done = 0;
    try {
      while (done < bytes.length) {
        const { bytesWritten } = await this.handle!.write(bytes, done, bytes.length - done, byteOffset + done);
        done += bytesWritten;
      }
    } catch (err) {
      throw new SourceError(`cannot write ${this.name} at byte ${byteOffset + done}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Operations run one at a time in call order; after a failed write the writer refuses more. */
  private enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.failure !== undefined) throw this.failure;
      try {
        await op();
      } catch (err) {
        this.failure = err;
        throw err;
      }
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private checkUsable(): void {
    if (!this.handle) throw new ClosedError(`V1Writer ${this.name}`);
  }
}
