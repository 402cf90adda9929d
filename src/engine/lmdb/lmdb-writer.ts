// Writer of picpac LMDB stores (layout in lmdb-layout.ts). Puts are queued into lmdb-js's
// write batches: everything issued in one event turn is committed in one transaction on
// lmdb-js's writer thread (group commit). append() resolves once the transaction holding the
// record has COMMITTED (visible to readers; durable unless noSync — `flush({ fsync: true })`
// waits for the flush to disk too). A record, its index entry, its annotation and the new
// meta.recordCount are written in the same turn, hence the same transaction.
import { flushWantsFsync } from '../flush-options.ts';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ClosedError, FileExistsError, PicpacError, invalidParameterError, outOfRangeError } from '../../errors.ts';
import { encodeRecordPayload } from '../../format/record.ts';
import { DEFAULT_LIMITS } from '../../format/layout.ts';
import { hasAllDatabases, openLmdbEnv, readLmdbMeta } from './lmdb-env.ts';
import type { LmdbEnv } from './lmdb-env.ts';
import { INDEX_ENTRY, INDEX_FLAG_ANNOTATED, LMDB_FORMAT_NAME, LMDB_FORMAT_VERSION, LMDB_META_KEY, RAW_PIXEL_LAYOUT, encodeIndexEntry, indexEntryOf, recordKey, toDecodedRecord } from './lmdb-layout.ts';
import type { LmdbMeta, LmdbMode } from './lmdb-layout.ts';
import { checkLmdbDataFile, isLmdbDirectory } from './lmdb-detect.ts';
import type { NewRecord, StoreWriter } from '../store.ts';

/** Options of {@link LmdbWriter.create}. */
export interface LmdbWriterOptions {
  /** 'encoded' keeps image bytes as given; 'raw' requires field 0 to be a uint8 [H, W, C] tensor. */
  mode: LmdbMode;
  /** Replace an existing store in `dir` (its data.mdb and lock.mdb; default false: FileExistsError). */
  overwrite?: boolean;
  /** Do not fsync commits (lmdb `noSync`): faster, not crash-safe. Default false. */
  noSync?: boolean;
}

const utf8 = new TextEncoder();

/**
 * Writes a picpac LMDB store: `create` one in a directory or `append` to one. An append
 * resolves once the LMDB transaction holding the record has committed; a record, its index
 * entry and its annotation commit together.
 */
export class LmdbWriter implements StoreWriter {
  readonly name: string;
  readonly mode: LmdbMode;
  private env: LmdbEnv | undefined;
  private count: number;
  private pending: Promise<unknown> = Promise.resolve();
  private failure: unknown;

  private constructor(dir: string, env: LmdbEnv, mode: LmdbMode, recordCount: number) {
    this.name = dir;
    this.env = env;
    this.mode = mode;
    this.count = recordCount;
  }

  /**
   * Create a store in directory `dir` (created if missing).
   * @param options.mode 'encoded' | 'raw'
   * @param [options.overwrite=false] replace an existing LMDB store in `dir`
   * @param [options.noSync=false] skip fsync on commit
   */
  static async create(dir: string, options: LmdbWriterOptions): Promise<LmdbWriter> {
    if (typeof dir !== 'string' || dir === '') throw invalidParameterError('dir', 'a non-empty path', dir);
    if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'an object', options);
    if (options.mode !== 'encoded' && options.mode !== 'raw') throw invalidParameterError('options.mode', "'encoded' or 'raw'", options.mode);
    const overwrite = options.overwrite ?? false;
    if (typeof overwrite !== 'boolean') throw invalidParameterError('options.overwrite', 'a boolean', overwrite);
    const noSync = options.noSync ?? false;
    if (typeof noSync !== 'boolean') throw invalidParameterError('options.noSync', 'a boolean', noSync);
    const info = await stat(dir).catch(() => undefined);
    if (info && !info.isDirectory()) throw new FileExistsError(dir);
    if (info) {
      const names = await readdir(dir);
      if (names.length > 0 && !overwrite) throw new FileExistsError(dir);
      // Only LMDB's own files are removed: a directory holding anything else is not ours to wipe.
      const foreign = names.filter((n) => n !== 'data.mdb' && n !== 'lock.mdb');
      if (foreign.length > 0) throw new PicpacError('EXISTS', `refusing to overwrite ${dir}: it holds files other than an LMDB store (${foreign.slice(0, 3).join(', ')})`);
      await rm(join(dir, 'data.mdb'), { force: true });
      await rm(join(dir, 'lock.mdb'), { force: true });
    } else {
      await mkdir(dir, { recursive: true });
    }
    const env = await openLmdbEnv(dir, { readOnly: false, noSync });
    const writer = new LmdbWriter(dir, env, options.mode, 0);
    writer.pending = env.meta.put(LMDB_META_KEY, writer.metaValue());
    await writer.pending;
    return writer;
  }

  /** Reopen a store to add records and change annotations. */
  static async append(dir: string, options?: { noSync?: boolean }): Promise<LmdbWriter> {
    if (typeof dir !== 'string' || dir === '') throw invalidParameterError('dir', 'a non-empty path', dir);
    const noSync = options?.noSync ?? false;
    if (typeof noSync !== 'boolean') throw invalidParameterError('options.noSync', 'a boolean', noSync);
    if (!isLmdbDirectory(dir)) throw new PicpacError('IO', `cannot append to ${dir}: not an LMDB directory (no data.mdb)`);
    checkLmdbDataFile(dir); // LMDB would crash on an empty, truncated or foreign data.mdb
    const env = await openLmdbEnv(dir, { readOnly: false, noSync });
    try {
      if (!hasAllDatabases(env)) readLmdbMeta(undefined, dir);
      const meta = readLmdbMeta(env, dir);
      return new LmdbWriter(dir, env, meta.mode, meta.recordCount);
    } catch (err) {
      await env.root.close().catch(() => {});
      throw err instanceof PicpacError ? err.withFile(dir) : err;
    }
  }

  get recordCount(): number {
    return this.count;
  }

  /** Resolves with the record index once its transaction has committed. */
  append(record: NewRecord): Promise<number> {
    try {
      const env = this.checkWritable();
      const recordIndex = this.count;
      if (recordIndex >= 0xffffffff) throw outOfRangeError('recordCount', 'fewer than 2^32-1 records in an LMDB store', recordIndex);
      const decoded = toDecodedRecord(record, recordIndex, this.mode);
      const payload = encodeRecordPayload(decoded);
      if (payload.length > DEFAULT_LIMITS.maxRecordBytes) throw outOfRangeError('record', `a record of at most ${DEFAULT_LIMITS.maxRecordBytes} payload bytes`, payload.length);
      const text = record.annotation ? utf8.encode(record.annotation) : undefined;
      if (text && text.length > DEFAULT_LIMITS.maxAnnotationBytes) throw outOfRangeError('annotation', `text of at most ${DEFAULT_LIMITS.maxAnnotationBytes} bytes`, text.length);
      const key = recordKey(recordIndex);
      this.count++;
      // Same turn → same transaction: record, index entry, annotation, meta.
      const done = env.records.put(key, payload, { append: true } as never);
      env.index.put(key, encodeIndexEntry(indexEntryOf(decoded, payload.length, text !== undefined)), { append: true } as never);
      if (text) env.annotations.put(key, text);
      env.meta.put(LMDB_META_KEY, this.metaValue());
      return this.track(done.then((ok) => {
        if (ok === false) throw new PicpacError('IO', `${this.name}: record ${recordIndex} was not written (key exists: another writer appended?)`);
        return recordIndex;
      }));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Replace (or with undefined / '' remove) the annotation of any record in the store. */
  setAnnotation(recordIndex: number, annotation: string | undefined): Promise<void> {
    try {
      const env = this.checkWritable();
      if (typeof recordIndex !== 'number' || !Number.isInteger(recordIndex)) throw invalidParameterError('recordIndex', `an integer between 0 and ${this.count - 1}`, recordIndex);
      if (recordIndex < 0 || recordIndex >= this.count) throw outOfRangeError('recordIndex', `an integer between 0 and ${this.count - 1}`, recordIndex);
      if (annotation !== undefined && typeof annotation !== 'string') throw invalidParameterError('annotation', 'a string or undefined', annotation);
      const key = recordKey(recordIndex);
      const text = annotation ? utf8.encode(annotation) : undefined;
      if (text && text.length > DEFAULT_LIMITS.maxAnnotationBytes) throw outOfRangeError('annotation', `text of at most ${DEFAULT_LIMITS.maxAnnotationBytes} bytes`, text.length);
      // The index flag changes in the same transaction; records of this session may still be
      // uncommitted, so the entry is rewritten inside a transaction callback, after them.
      const done = env.index.transaction(() => {
        const entry = env.index.getBinary(key);
        if (entry === undefined || entry.length !== INDEX_ENTRY.entryByteLength) throw new PicpacError('IO', `${this.name}: index entry of record ${recordIndex} missing`);
        const updated = Uint8Array.from(entry);
        const flags = updated[INDEX_ENTRY.flags.offset];
        updated[INDEX_ENTRY.flags.offset] = text ? flags | INDEX_FLAG_ANNOTATED : flags & ~INDEX_FLAG_ANNOTATED;
        env.index.putSync(key, updated);
        if (text) env.annotations.putSync(key, text);
        else env.annotations.removeSync(key);
      });
      return this.track(done.then(() => undefined));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Wait for every queued write to commit; with fsync, for the flush to disk as well. */
  async flush(options?: { fsync?: boolean }): Promise<void> {
    const fsync = flushWantsFsync(options);
    const env = this.env;
    if (!env) throw new ClosedError(`LMDB writer of ${this.name}`);
    await this.pending;
    await env.root.committed;
    if (this.failure) throw this.failure;
    if (fsync) await env.root.flushed;
  }

  /** Wait for the last commit (and its flush), then close the environment. A second close is a no-op. */
  async close(): Promise<void> {
    const env = this.env;
    if (!env) return;
    try {
      await this.pending.catch(() => {});
      await env.root.committed;
      await env.root.flushed;
    } finally {
      this.env = undefined;
      await env.root.close();
    }
    if (this.failure) throw this.failure;
  }

  private metaValue(): LmdbMeta {
    return { format: LMDB_FORMAT_NAME, formatVersion: LMDB_FORMAT_VERSION, mode: this.mode, recordCount: this.count, pixelLayout: this.mode === 'raw' ? RAW_PIXEL_LAYOUT : undefined };
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    const observed = promise.catch((err) => {
      this.failure ??= err;
      throw err;
    });
    this.pending = observed.catch(() => {});
    return observed;
  }

  private checkWritable(): LmdbEnv {
    if (!this.env) throw new ClosedError(`LMDB writer of ${this.name}`);
    if (this.failure) throw this.failure;
    return this.env;
  }
}
