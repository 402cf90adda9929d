// LMDB backend (Store 'lmdb-encoded' | 'lmdb-raw'): the layout is documented in lmdb-layout.ts.
// Opening reads the meta entry and the 40-byte index entries (never the image values) into
// typed-array columns, so meta() is sync. Reads go through LMDB's memory map (no ByteSource):
// get() is one LMDB get, scan() one getRange cursor. LMDB has no checksums: verifyChecksums is
// accepted and ignored. The store sees the records committed when it was opened.
import { ClosedError, FormatError, PicpacError, invalidParameterError, outOfRangeError } from '../../errors.ts';
import { fieldKindName, fieldTypeName } from '../../format/field-type.ts';
import { decodeRecordPayload } from '../../format/record.ts';
import type { FieldKindCode } from '../../format/layout.ts';
import { openLmdbEnv, readLmdbMeta, hasAllDatabases } from './lmdb-env.ts';
import type { LmdbEnv } from './lmdb-env.ts';
import { INDEX_FLAG_ANNOTATED, IndexColumns, decodeRecordKey, recordKey } from './lmdb-layout.ts';
import type { LmdbMeta, LmdbMode } from './lmdb-layout.ts';
import { checkLmdbDataFile, isLmdbDirectory } from './lmdb-detect.ts';
import { decodeAnnotationText } from '../picpac/record-decode.ts';
import { validateScanOptions } from '../reader-options.ts';
import type { PicpacScanOptions } from '../reader-options.ts';
import type { RecordMeta, Store, StoredRecord } from '../store.ts';

export { LmdbWriter } from './lmdb-writer.ts';
export type { LmdbWriterOptions } from './lmdb-writer.ts';
export type { LmdbMode } from './lmdb-layout.ts';

/** Options of {@link LmdbStore.open}: none yet (the parameter is reserved). */
export type LmdbStoreOptions = Record<string, never>;

/**
 * Reads a picpac LMDB store (a directory with data.mdb; Store format 'lmdb-encoded' or
 * 'lmdb-raw') through LMDB's memory map. It sees the records committed when it was opened.
 * LMDB keeps no checksums, so `verifyChecksums` is accepted and has no effect.
 */
export class LmdbStore implements Store {
  readonly name: string;
  readonly format: 'lmdb-encoded' | 'lmdb-raw';
  readonly mode: LmdbMode;
  /** The meta entry as read at open. */
  readonly info: Readonly<LmdbMeta>;
  private env: LmdbEnv | undefined;
  private readonly cols: IndexColumns;

  private constructor(dir: string, env: LmdbEnv, meta: LmdbMeta, cols: IndexColumns) {
    this.name = dir;
    this.env = env;
    this.info = Object.freeze({ ...meta });
    this.mode = meta.mode;
    this.format = meta.mode === 'raw' ? 'lmdb-raw' : 'lmdb-encoded';
    this.cols = cols;
  }

  /**
   * Open a picpac LMDB store (a directory with data.mdb) read-only.
   * A directory without data.mdb, or an LMDB environment without the picpac meta entry (a
   * Caffe LMDB, say), is a PicpacError / FormatError naming the directory.
   */
  static async open(dir: string, options?: LmdbStoreOptions): Promise<LmdbStore> {
    if (typeof dir !== 'string' || dir === '') throw invalidParameterError('dir', 'a non-empty path', dir);
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw invalidParameterError('options', 'an object', options);
    if (!isLmdbDirectory(dir)) throw new PicpacError('IO', `cannot open ${dir}: not an LMDB directory (no data.mdb)`);
    checkLmdbDataFile(dir); // LMDB would crash on an empty, truncated or foreign data.mdb
    const env = await openLmdbEnv(dir, { readOnly: true });
    try {
      if (!hasAllDatabases(env)) readLmdbMeta(undefined, dir);
      const meta = readLmdbMeta(env, dir);
      const cols = loadIndex(env, meta.recordCount);
      return new LmdbStore(dir, env, meta, cols);
    } catch (err) {
      await env.root.close().catch(() => {});
      throw err instanceof PicpacError ? err.withFile(dir) : err;
    }
  }

  get recordCount(): number {
    return this.cols.recordCount;
  }

  meta(recordIndex: number): RecordMeta {
    this.checkIndex(recordIndex);
    const c = this.cols;
    const i = recordIndex;
    return {
      recordIndex: i,
      id: c.id[i],
      label: c.label[i],
      label2: c.label2[i],
      fieldCount: c.fieldCount[i],
      width: c.width[i],
      height: c.height[i],
      imageCodec: c.imageCodec[i],
      hasAnnotation: (c.flags[i] & INDEX_FLAG_ANNOTATED) !== 0,
      byteOffset: -1,
      byteLength: c.byteLength[i],
    };
  }

  async get(recordIndex: number): Promise<StoredRecord> {
    const env = this.checkIndex(recordIndex);
    const value = env.records.getBinary(recordKey(recordIndex));
    if (value === undefined) throw missing(recordIndex, 'records').withFile(this.name);
    const record = this.decode(recordIndex, value);
    if (record.hasAnnotation) record.annotation = this.readAnnotation(env, recordIndex);
    return record;
  }

  async getAnnotation(recordIndex: number): Promise<string | undefined> {
    const env = this.checkIndex(recordIndex);
    return (this.cols.flags[recordIndex] & INDEX_FLAG_ANNOTATED) !== 0 ? this.readAnnotation(env, recordIndex) : undefined;
  }

  /**
   * Records in key (= record) order through one getRange cursor. Without `copy`, field bytes are
   * views into a buffer reused by the next step (like PicpacReader.scan): lmdb-js hands each
   * value over in its shared read buffer and this copies it once, so other reads between steps
   * cannot clobber a record being used.
   * @param [options.start=0] first record index
   * @param [options.end=recordCount] one past the last record index
   * @param [options.copy=false] give every record its own field bytes
   * `chunkBytes` and `verifyChecksums` are validated and ignored (LMDB has neither).
   */
  scan(options?: PicpacScanOptions): AsyncIterableIterator<StoredRecord> {
    this.checkOpen();
    const o = validateScanOptions(options, this.recordCount, false);
    return this.scanRange(o.start, o.end, o.copy);
  }

  private async *scanRange(start: number, end: number, copy: boolean): AsyncGenerator<StoredRecord> {
    if (start >= end) return;
    const env = this.checkOpen();
    const iterator = env.recordsView.getRange({ start: recordKey(start), end: end > 0xffffffff ? undefined : recordKey(end) })[Symbol.iterator]();
    let buffer = new Uint8Array(1 << 16);
    try {
      for (let i = start; i < end; i++) {
        this.checkOpen();
        // Read the annotation before stepping the cursor: any lmdb read reuses the value buffer.
        const annotation = (this.cols.flags[i] & INDEX_FLAG_ANNOTATED) !== 0 ? this.readAnnotation(env, i) : undefined;
        const step = iterator.next();
        if (step.done) throw missing(i, 'records');
        const { key, value } = step.value as { key: Uint8Array; value: Uint8Array };
        const at = decodeRecordKey(key);
        if (at !== i) throw missing(i, 'records');
        let bytes: Uint8Array;
        if (copy) bytes = new Uint8Array(value); // a copy (Buffer#slice would alias lmdb's buffer)
        else {
          if (buffer.length < value.length) buffer = new Uint8Array(Math.max(value.length, buffer.length * 2));
          buffer.set(value);
          bytes = buffer.subarray(0, value.length);
        }
        const record = this.decode(i, bytes);
        record.annotation = annotation;
        yield record;
      }
    } catch (err) {
      throw err instanceof PicpacError ? err.withFile(this.name) : err;
    } finally {
      iterator.return?.();
    }
  }

  async close(): Promise<void> {
    const env = this.env;
    if (!env) return;
    this.env = undefined;
    await env.root.close();
  }

  private decode(recordIndex: number, value: Uint8Array): StoredRecord {
    const c = this.cols;
    if (value.length !== c.byteLength[recordIndex]) {
      throw new FormatError('record length disagrees with the index', { section: 'lmdb-records', byteOffset: 0, recordIndex, expected: c.byteLength[recordIndex], actual: value.length }).withFile(this.name);
    }
    // Plain Uint8Array views, never Buffers: Buffer#slice aliases, and callers rely on slice() copying.
    const plain = value instanceof Buffer ? new Uint8Array(value.buffer, value.byteOffset, value.length) : value;
    const decoded = decodeRecordPayload(plain, 0, recordIndex);
    const fields = decoded.fields.map((f) => ({
      kind: fieldKindName(f.kind as FieldKindCode),
      type: fieldTypeName(f.kind as FieldKindCode, f.codec),
      codec: f.codec,
      bytes: f.bytes,
      width: f.width,
      height: f.height,
    }));
    return { ...this.meta(recordIndex), fields, annotation: undefined };
  }

  private readAnnotation(env: LmdbEnv, recordIndex: number): string | undefined {
    const bytes = env.annotations.getBinary(recordKey(recordIndex));
    if (bytes === undefined) throw missing(recordIndex, 'annotations').withFile(this.name);
    return decodeAnnotationText(bytes, 0, recordIndex);
  }

  private checkOpen(): LmdbEnv {
    if (!this.env) throw new ClosedError(`LMDB store ${this.name}`);
    return this.env;
  }

  private checkIndex(recordIndex: number): LmdbEnv {
    const env = this.checkOpen();
    if (!Number.isInteger(recordIndex) || recordIndex < 0 || recordIndex >= this.cols.recordCount) {
      throw outOfRangeError('recordIndex', `an integer between 0 and ${this.cols.recordCount - 1}`, recordIndex);
    }
    return env;
  }
}

/** The index entries of records [0, recordCount) in one getRange pass. */
export function loadIndex(env: LmdbEnv, recordCount: number): IndexColumns {
  const cols = new IndexColumns(recordCount);
  let expected = 0;
  for (const { key, value } of env.index.getRange({ start: recordKey(0) })) {
    const i = decodeRecordKey(key as Uint8Array);
    if (i >= recordCount) break; // committed by a writer after the meta we read: not ours
    if (i !== expected) throw missing(expected, 'index');
    cols.set(i, value as Uint8Array);
    expected++;
  }
  if (expected !== recordCount) throw missing(expected, 'index');
  cols.recordCount = recordCount;
  return cols;
}

function missing(recordIndex: number, db: string): FormatError {
  return new FormatError(`entry missing from the ${db} database`, { section: `lmdb-${db}`, byteOffset: 0, recordIndex, expected: `key ${recordIndex}`, actual: 'no entry' });
}
