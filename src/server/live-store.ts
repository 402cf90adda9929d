// The database the viewer serves, opened once. A file still being written (no footer yet, or an
// append session in progress) is opened in recovery mode; stores that can `refresh()` (the .picpac
// 2.0 reader) are refreshed at most every `refreshMs` before requests that depend on the record
// count, so new records show up without a restart. Refreshes are single-flight.
import { stat } from 'node:fs/promises';
import { HttpError } from '../engine/sources/http-kit.ts';
import { openStore } from '../engine/open-store.ts';
import type { RecordMeta, Store, StoredRecord } from '../engine/store.ts';
import { PicpacError } from '../errors.ts';

interface Refreshable {
  refresh(): Promise<number>;
}

function canRefresh(store: Store): store is Store & Refreshable {
  return typeof (store as Partial<Refreshable>).refresh === 'function';
}

export interface LiveStoreOptions {
  /** Minimum milliseconds between automatic refreshes (default 1000; 0 = before every request; -1 = never). */
  refreshMs?: number;
}

export class LiveStore {
  readonly store: Store;
  readonly path: string;
  /** True when the file had no valid footer at open (being written, or left by a crash). */
  readonly recovered: boolean;
  /** Bumped whenever the record count changes (caches keyed on it). */
  generation = 0;
  /** Completed refreshes (render workers refresh their own view when this moves on). */
  refreshes = 0;
  private readonly refreshMs: number;
  private lastRefresh = Date.now();
  private pending: Promise<number> | undefined;

  private constructor(store: Store, path: string, recovered: boolean, refreshMs: number) {
    this.store = store;
    this.path = path;
    this.recovered = recovered;
    this.refreshMs = refreshMs;
  }

  /** Open `path` (any store openStore accepts); a file without a footer is opened with `recover`. */
  static async open(path: string, options: LiveStoreOptions = {}): Promise<LiveStore> {
    const refreshMs = options.refreshMs ?? 1000;
    if (!Number.isInteger(refreshMs) || refreshMs < -1) throw new RangeError(`Expected an integer ≥ -1 for refreshMs but received ${refreshMs}`);
    try {
      return new LiveStore(await openStore(path), path, false, refreshMs);
    } catch (error) {
      if (!(error instanceof PicpacError && error.code === 'UNFINISHED')) throw error;
      return new LiveStore(await openStore(path, { recover: true }), path, true, refreshMs);
    }
  }

  get recordCount(): number {
    return this.store.recordCount;
  }

  get canRefresh(): boolean {
    return canRefresh(this.store);
  }

  /** Refresh now (single-flight); resolves with the record count. */
  refresh(): Promise<number> {
    const store = this.store;
    if (!canRefresh(store)) return Promise.resolve(store.recordCount);
    if (this.pending) return this.pending;
    const before = store.recordCount;
    this.pending = store.refresh().then(
      (count) => {
        if (count !== before) this.generation++;
        return count;
      },
    ).finally(() => {
      this.refreshes++;
      this.lastRefresh = Date.now();
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Refresh when the last one is older than refreshMs. Errors are reported, not thrown: the old prefix stays served. */
  async maybeRefresh(): Promise<void> {
    if (this.refreshMs < 0 || !this.canRefresh) return;
    if (Date.now() - this.lastRefresh < this.refreshMs && this.pending === undefined) return;
    try {
      await this.refresh();
    } catch (error) {
      this.lastError = (error as Error).message;
    }
  }

  /** The message of the last failed automatic refresh, if any. */
  lastError: string | undefined;

  /** A record index from a query value, or a 404 naming the valid range. */
  checkIndex(recordIndex: number): number {
    const count = this.store.recordCount;
    if (recordIndex >= count) {
      throw new HttpError(404, `record ${recordIndex} not found: the database has ${count} records${count > 0 ? ` (ids 0..${count - 1})` : ''}`);
    }
    return recordIndex;
  }

  meta(recordIndex: number): RecordMeta {
    return this.store.meta(this.checkIndex(recordIndex));
  }

  get(recordIndex: number): Promise<StoredRecord> {
    return this.store.get(this.checkIndex(recordIndex));
  }

  /** Bytes on disk (file, or sum of LMDB files); null for URLs and unknown layouts. */
  async fileByteLength(): Promise<number | null> {
    try {
      const info = await stat(this.path);
      if (info.isFile()) return info.size;
      if (info.isDirectory()) {
        const data = await stat(`${this.path}/data.mdb`).catch(() => undefined);
        return data?.size ?? null;
      }
      return null;
    } catch {
      return null;
    }
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
