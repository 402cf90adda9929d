// The five backends the storage benchmark compares, behind one small interface: build from
// in-memory records, open hot, open on a modelled device (ThrottledSource for the file formats;
// a per-value DeviceClock charge for LMDB, which reads through mmap), size on disk.
import { readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FileSource } from '../../src/engine/sources/file-source.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { V1Reader } from '../../src/engine/v1/v1-reader.ts';
import { V1Writer } from '../../src/engine/v1/v1-writer.ts';
import { LmdbStore, LmdbWriter } from '../../src/engine/lmdb/lmdb-store.ts';
import { DeviceClock, ThrottledSource } from '../../src/engine/sources/throttled-source.ts';
import type { NewRecord, Store, StoredRecord, StoreWriter } from '../../src/engine/store.ts';

export type BackendKey = 'lmdb-raw' | 'lmdb-encoded' | 'picpac-compact' | 'picpac-aligned' | 'picpac-1';

export interface BenchBackend {
  key: BackendKey;
  label: string;
  /** Holds decoded pixels (no decode needed to train). */
  raw: boolean;
  path: string;
  create(): Promise<StoreWriter>;
  open(): Promise<Store>;
  /** Store whose reads are charged to `clock` (sequential when they continue the last read). */
  openOn(clock: DeviceClock): Promise<DeviceStore>;
  /** Bytes the store occupies on disk. */
  diskBytes(): number;
}

export interface DeviceStore {
  store: Store;
  /** Sequential scan, with reads charged to the device (read-ahead as the backend does it). */
  scan(start: number, end: number): AsyncIterable<StoredRecord>;
  get(recordIndex: number): Promise<StoredRecord>;
  close(): Promise<void>;
}

export const LMDB_PAGE_BYTES = 4096;

/**
 * Bytes LMDB touches for one value: values larger than about half a page live in their own
 * overflow pages (a 16-byte page header, then the value), whole pages are read.
 */
export function lmdbValueDiskBytes(valueByteLength: number): number {
  if (valueByteLength <= LMDB_PAGE_BYTES / 2) return valueByteLength;
  return Math.ceil((valueByteLength + 16) / LMDB_PAGE_BYTES) * LMDB_PAGE_BYTES;
}

function fileBacked(key: BackendKey, label: string, path: string, create: () => Promise<StoreWriter>, openSource: (source: FileSource | ThrottledSource) => Promise<Store>): BenchBackend {
  return {
    key,
    label,
    raw: false,
    path,
    create,
    async open() {
      const source = await FileSource.open(path);
      const store = await openSource(source);
      const close = store.close.bind(store);
      store.close = async () => {
        await close();
        await source.close();
      };
      return store;
    },
    async openOn(clock) {
      const file = await FileSource.open(path);
      const source = new ThrottledSource(file, clock);
      const store = await openSource(source);
      return {
        store,
        scan: (start, end) => store.scan({ start, end }),
        get: (i) => store.get(i),
        close: async () => {
          await store.close();
          await file.close();
        },
      };
    },
    diskBytes: () => statSync(path).size,
  };
}

function lmdbBacked(key: BackendKey, label: string, path: string, mode: 'raw' | 'encoded'): BenchBackend {
  return {
    key,
    label,
    raw: mode === 'raw',
    path,
    create: () => LmdbWriter.create(path, { mode, overwrite: true }),
    open: () => LmdbStore.open(path),
    async openOn(clock) {
      const store = await LmdbStore.open(path);
      const cost = (i: number) => lmdbValueDiskBytes(store.meta(i).byteLength);
      return {
        store,
        // mmap read-ahead stands in for the file formats' 4 MiB chunk: transfers are booked up to
        // 4 MiB ahead of the record being consumed, consecutive keys being consecutive pages.
        async *scan(start, end) {
          const booked: Promise<void>[] = [];
          let next = start;
          let aheadBytes = 0;
          const book = () => {
            const bytes = cost(next);
            booked.push(clock.charge(bytes, next !== start));
            aheadBytes += bytes;
            next++;
          };
          for await (const record of store.scan({ start, end })) {
            while (next < end && (next === record.recordIndex || aheadBytes < 4 << 20)) book();
            await booked.shift();
            aheadBytes -= cost(record.recordIndex);
            yield record;
          }
        },
        async get(i) {
          await clock.charge(cost(i), false);
          return store.get(i);
        },
        close: () => store.close(),
      };
    },
    diskBytes: () => readdirSync(path).filter((n) => n === 'data.mdb').reduce((sum, n) => sum + statSync(join(path, n)).size, 0),
  };
}

export function benchBackends(workDir: string, tag: string): BenchBackend[] {
  const p = (name: string) => join(workDir, `${tag}-${name}`);
  return [
    lmdbBacked('lmdb-raw', 'LMDB raw', p('raw.lmdb'), 'raw'),
    lmdbBacked('lmdb-encoded', 'LMDB encoded', p('encoded.lmdb'), 'encoded'),
    fileBacked('picpac-compact', '.picpac compact', p('compact.picpac'), () => PicpacWriter.create(p('compact.picpac'), { overwrite: true }), (s) => PicpacReader.open(s)),
    fileBacked('picpac-aligned', '.picpac aligned 4 KiB', p('aligned.picpac'), () => PicpacWriter.create(p('aligned.picpac'), { overwrite: true, alignment: 4096 }), (s) => PicpacReader.open(s)),
    fileBacked('picpac-1', 'PicPac 1.0 (compact)', p('v1.db'), () => V1Writer.create(p('v1.db'), { overwrite: true }), (s) => V1Reader.open(s)),
  ];
}

/** Write all records with a bounded number in flight (like the CLI's AppendQueue); seconds. */
export async function buildStore(backend: BenchBackend, records: NewRecord[]): Promise<number> {
  await rm(backend.path, { recursive: true, force: true });
  const t0 = performance.now();
  const writer = await backend.create();
  const pending: Promise<number>[] = [];
  for (const record of records) {
    const ack = writer.append(record);
    ack.catch(() => {});
    pending.push(ack);
    if (pending.length >= 256) await pending.shift();
  }
  while (pending.length > 0) await pending.shift();
  await writer.close();
  return (performance.now() - t0) / 1000;
}
